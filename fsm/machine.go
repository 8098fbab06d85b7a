package fsm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/graph"
)

// Updater sends one updateRecordingStatus request. *graph.Client satisfies
// it; tests use fakes. fsm calls it at most once per attempt, from inside the
// transition that needs the reply, and never from introspection.
//
// An implementation returns the operation Graph replied with (its Status may
// be pending, completed or failed) or an error; it may retry throttled
// requests itself, but must finish (or give up) before it returns, so that a
// later request of the same call can never overtake it. The machine checks
// the reply as graph.Client checks Graph's: an operation whose
// clientContext is set and is not the request's is another request's reply,
// and is refused (ErrForeignReply); one without clientContext is taken as
// the reply to this request.
type Updater interface {
	UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error)
}

// UpdaterFunc adapts a function to Updater.
type UpdaterFunc func(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error)

// UpdateRecordingStatus calls f.
func (f UpdaterFunc) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	return f(ctx, callID, status, clientContext)
}

// EndedHook is the bot's "recording ended" hook: flush and close whatever it
// persisted. The machine calls it once each time it leaves Recording, after
// the gate closed and every lease was released, and before it reports
// notRecording or failed. (Leaving AwaitingConfirmation needs no hook:
// nothing was persisted.) trigger says why (Stop, Fail or CallEnded).
//
// It runs also when the gate of that Recording never opened: Graph's
// completed came after a Stop, Fail or CallEnded had closed the gate (Start
// then returned ErrSuperseded). Nothing was persisted under the gate then,
// so a hook must not write bytes that no frame went with (an empty file's
// header, a compressor's trailer): write them only if the recording wrote
// a frame.
//
// An error aborts a Stop or Fail (the gate stays closed, nothing is
// reported, Stop may be retried; a hook that fails the same way each time,
// such as a bufio.Writer's Flush after its first write error, which it
// keeps, wedges the machine in Recording: drop or reset what failed rather
// than fail again); after CallEnded the machine ends anyway and CallEnded
// returns the error.
type EndedHook func(ctx context.Context, trigger Trigger) error

// Machine is the compliance machine of one call. Its methods are safe for
// concurrent use; transitions run one at a time, in full, behind the
// machine's lock, and the gate closes at once on Stop, Fail and CallEnded
// even while another transition holds the lock.
type Machine struct {
	callID  string
	updater Updater
	cfg     config
	gate    *Gate

	state atomic.Int32

	mu sync.Mutex // the machine's lock (see lock.go): serializes transitions
	// gateEvents makes each change of the gate and its Event one step, when
	// there is an observer: a Stop closes the gate without the machine's
	// lock, so without it a close could be observed (and written to the
	// audit trail) before the opening it undid.
	gateEvents sync.Mutex
	sm         *stateless.StateMachine
	pending    *pendingAttempt // the recording attempt awaiting confirmation; guarded by the lock

	// forget, if set, tells the Registry holding the machine that the call
	// ended; see Registry.
	forget atomic.Pointer[func()]

	// done is closed (made on demand by Done) once the machine has ended
	// and written its last records; ended says it has.
	doneMu sync.Mutex
	done   chan struct{}
	ended  bool

	// waitingUpdates counts the operation updates that gave up waiting
	// for the lock and wait for it in goroutines of their own (see
	// keepUpdate).
	waitingUpdates atomic.Int32

	// life is cancelled when the call ends; every firing's context derives
	// its cancellation from it, so CallEnded stops an in-flight request.
	life context.Context
	kill context.CancelFunc
	// background is the request context for callers that pass
	// context.Background(): built once, immutable, shared.
	background endOfCall

	ccPrefix string // random per machine; clientContext = ccPrefix + sequence
	seq      atomic.Uint64
	// ccBatch holds the next clientContexts (see makeClientContexts):
	// ccBatch[ccEnds[i-1]:ccEnds[i]] is the i-th, ccTaken are used. Guarded
	// by the lock.
	ccBatch string
	ccEnds  [clientContextBatch]uint16
	ccTaken int
	// ccUsed holds the values a WithClientContexts generator gave, to
	// refuse a repeat. Guarded by the lock.
	ccUsed map[string]struct{}

	current firing // the attempt being fired; guarded by the lock
}

// New builds the machine for one call. It fails on an invalid call ID (see
// graph.ValidateCallID), a nil Updater (also a nil function or pointer
// inside the interface, such as UpdaterFunc(nil), which would otherwise
// panic at the first Start) or a nil or invalid option.
func New(callID string, u Updater, opts ...Option) (*Machine, error) {
	if err := graph.ValidateCallID(callID); err != nil {
		return nil, fmt.Errorf("fsm.New: %w", err)
	}
	if isNil(u) {
		return nil, fmt.Errorf("fsm.New: nil Updater (%T): pass a *graph.Client or another Updater", u)
	}
	m := &Machine{callID: callID, updater: u, gate: newGate()}
	m.cfg = defaultConfig()
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("fsm.New: option %d is nil", i)
		}
		if err := o(&m.cfg); err != nil {
			return nil, err
		}
	}
	if m.cfg.checker != nil {
		m.gate.attachChecker(m.cfg.checker)
	}
	if a := m.cfg.audit; a != nil {
		// The trail is one more observer, after the caller's.
		user := m.cfg.observer
		m.cfg.observer = func(e Event) {
			if user != nil {
				user(e)
			}
			a.record(e)
		}
	}
	if m.cfg.clientContext == nil {
		var b [12]byte
		// Should the system's randomness fail, the sequence number still
		// keeps every clientContext unique within the call.
		_, _ = rand.Read(b[:])
		m.ccPrefix = "recgate-" + hex.EncodeToString(b[:]) + "-"
	}
	m.life, m.kill = context.WithCancel(context.Background())
	m.background = endOfCall{Context: m.life, values: context.Background()}
	m.sm = stateless.NewStateMachineWithExternalStorage(
		func(context.Context) (stateless.State, error) { return State(m.state.Load()), nil },
		m.storeState,
		stateless.FiringImmediate,
	)
	configure(m.sm)
	m.sm.OnUnhandledTrigger(m.unhandled)
	// No OnTransitioned hook: storeState notes the transition in the firing
	// and fire finishes it (transitioned) once stateless returns, which is
	// the same point in the sequence and costs no callback per firing.
	return m, nil
}

// storeState is stateless's state mutator: it stores the new state and
// notes the transition in the firing (the Fire context), for fire to
// finish.
func (m *Machine) storeState(ctx context.Context, s stateless.State) error {
	to := s.(State)
	from := State(m.state.Swap(int32(to)))
	if f, ok := ctx.(*firing); ok {
		f.moved, f.from, f.to = true, from, to
	}
	return nil
}

// isNil reports whether u is nil, or a nil function, pointer, map, channel
// or slice wrapped in an interface: calling a method on it would panic (or
// block for ever, for a channel).
func isNil(u any) bool {
	if u == nil {
		return true
	}
	switch v := reflect.ValueOf(u); v.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Map, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// CallID returns the call this machine guards.
func (m *Machine) CallID() string { return m.callID }

// State returns the current state.
func (m *Machine) State() State { return State(m.state.Load()) }

// Gate returns the persist gate; take Streams or Writers from it.
func (m *Machine) Gate() *Gate { return m.gate }

// CanFire reports whether t is permitted in the current state, subject to
// Graph's reply where the transition needs one. It sends nothing.
func (m *Machine) CanFire(t Trigger) bool {
	ok, err := m.sm.CanFire(t)
	return err == nil && ok
}

// PermittedTriggers lists the triggers permitted in the current state. It
// sends nothing.
func (m *Machine) PermittedTriggers() []Trigger {
	ts, err := m.sm.PermittedTriggers()
	if err != nil {
		return nil
	}
	out := make([]Trigger, 0, len(ts))
	for _, t := range Triggers() { // stable order
		for _, u := range ts {
			if u == t {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// String describes the machine: call, state, gate and permitted triggers.
// It sends nothing.
func (m *Machine) String() string {
	gate := "closed"
	if m.gate.IsOpen() {
		gate = "open"
	}
	return fmt.Sprintf("fsm.Machine{call %s, state %s, gate %s, permitted %v}", m.callID, m.State(), gate, m.PermittedTriggers())
}

// permitted reports whether any transition for t leaves the current state,
// whatever its guard; it evaluates no guard.
func (m *Machine) permitted(t Trigger) bool {
	s := m.State()
	return s >= 0 && int(s) < len(permittedTable) && t >= 0 && int(t) < len(permittedTable[s]) && permittedTable[s][t]
}

// log logs msg with the call ID, if a logger is configured.
func (m *Machine) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if m.cfg.logger == nil {
		return
	}
	m.cfg.logger.Log(ctx, level, msg, append([]any{"call", m.callID}, args...)...)
}

// Done returns a channel that is closed once the machine has ended
// (CallEnded, the gate closed for good and the recording-ended hook run)
// and its observer, the audit trail included, has been told: then nothing
// more is written to the trail, and the bot can close its file (see
// Journal.Create). Closing the trail from the observer's own Ended event
// would lose that event's record.
func (m *Machine) Done() <-chan struct{} {
	m.doneMu.Lock()
	defer m.doneMu.Unlock()
	if m.done == nil {
		m.done = make(chan struct{})
		if m.ended {
			close(m.done)
		}
	}
	return m.done
}

// markDone closes Done's channel, once.
func (m *Machine) markDone() {
	m.doneMu.Lock()
	defer m.doneMu.Unlock()
	if m.ended {
		return
	}
	m.ended = true
	if m.done != nil {
		close(m.done)
	}
}

// emit stamps e and hands it to the observer. Callers test for an observer
// first, so a machine without one does not even build the Event.
func (m *Machine) emit(e Event) {
	e.Time = time.Now()
	e.CallID = m.callID
	m.cfg.observer(e)
}
