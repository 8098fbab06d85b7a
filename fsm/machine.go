package fsm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// Updater sends one updateRecordingStatus request. *graph.Client satisfies
// it; tests use fakes. fsm calls it at most once per attempt, from inside the
// transition that needs the reply, and never from introspection.
//
// An implementation returns the operation Graph replied with (its Status may
// be pending, completed or failed) or an error; it may retry throttled
// requests itself, but must finish (or give up) before it returns, so that a
// later request of the same call can never overtake it.
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
// nothing was persisted.) trigger says why (Stop, Fail or CallEnded). An error aborts a Stop or Fail (the gate stays
// closed, nothing is reported, Stop may be retried); after CallEnded the
// machine ends anyway and CallEnded returns the error.
type EndedHook func(ctx context.Context, trigger Trigger) error

// Option configures a Machine.
type Option func(*config) error

type config struct {
	checker       *hooks.Hooks
	audit         *auditTrail
	hook          EndedHook
	logger        *slog.Logger
	observer      func(Event)
	clientContext func() string
}

// WithRecordingEndedHook sets the hook that flushes and closes the bot's
// recording; see EndedHook.
func WithRecordingEndedHook(h EndedHook) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("fsm: WithRecordingEndedHook(nil): pass a hook, or leave the option out")
		}
		c.hook = h
		return nil
	}
}

// WithLogger logs each transition and Graph exchange at Info (refusals at
// Warn). The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("fsm: WithLogger(nil): pass a logger, or leave the option out")
		}
		c.logger = l
		return nil
	}
}

// WithObserver calls fn synchronously for every Event. Most events come
// from inside a transition, under the machine's lock; the gate-closed events
// of Stop, Fail and CallEnded come before it, possibly concurrently, so fn
// must be safe for concurrent use. Keep it quick and do not call the machine
// from it.
func WithObserver(fn func(Event)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("fsm: WithObserver(nil): pass a function, or leave the option out")
		}
		c.observer = fn
		return nil
	}
}

// WithClientContexts replaces the generator of clientContext values. Each
// value must be unique per request, non-empty and at most 256 characters; a
// bad value fails that request before anything is sent.
func WithClientContexts(next func() string) Option {
	return func(c *config) error {
		if next == nil {
			return errors.New("fsm: WithClientContexts(nil): pass a generator, or leave the option out")
		}
		c.clientContext = next
		return nil
	}
}

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

	mu      sync.Mutex // serializes transitions
	sm      *stateless.StateMachine
	pending *pendingAttempt

	// life is cancelled when the call ends; every firing's context derives
	// its cancellation from it, so CallEnded stops an in-flight request.
	life context.Context
	kill context.CancelFunc
	// background is the request context for callers that pass
	// context.Background(): built once, immutable, shared.
	background endOfCall

	ccPrefix string // random per machine; clientContext = ccPrefix + sequence
	seq      atomic.Uint64

	current firing // the attempt being fired; guarded by mu
}

type pendingAttempt struct {
	clientContext string
	operationID   string
	epoch         uint64
}

// New builds the machine for one call. It fails on an invalid call ID (see
// graph.ValidateCallID), a nil updater or a nil option value.
func New(callID string, u Updater, opts ...Option) (*Machine, error) {
	if err := graph.ValidateCallID(callID); err != nil {
		return nil, fmt.Errorf("fsm.New: %w", err)
	}
	if u == nil {
		return nil, errors.New("fsm.New: nil Updater: pass a *graph.Client or another Updater")
	}
	m := &Machine{callID: callID, updater: u, gate: newGate()}
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
		func(_ context.Context, s stateless.State) error { m.state.Store(int32(s.(State))); return nil },
		stateless.FiringImmediate,
	)
	configure(m.sm)
	m.sm.OnUnhandledTrigger(m.unhandled)
	m.sm.OnTransitioned(m.transitioned)
	return m, nil
}

// CallID returns the call this machine guards.
func (m *Machine) CallID() string { return m.callID }

// State returns the current state.
func (m *Machine) State() State { return State(m.state.Load()) }

// Gate returns the persist gate; take Streams or Writers from it.
func (m *Machine) Gate() *Gate { return m.gate }

// Start asks Graph for permission to record. A completed reply opens the
// gate (Recording) and returns nil; a pending reply moves to
// AwaitingConfirmation and returns nil with the gate closed (see
// OperationUpdate); anything else leaves the state as it was and returns an
// error: a *RequestError wrapping Graph's, a *TransitionError if Start is not
// permitted now, or ErrSuperseded if a Stop, Fail or CallEnded came in
// meanwhile. The returned Operation is Graph's reply, if there was one.
func (m *Machine) Start(ctx context.Context) (graph.Operation, error) {
	epoch := m.gate.epoch() // a Stop or CallEnded after this point supersedes the attempt
	m.lock()
	defer m.unlock()

	if !m.permitted(Start) {
		return graph.Operation{}, &TransitionError{State: m.State(), Trigger: Start}
	}
	cc, err := m.nextClientContext()
	if err != nil {
		return graph.Operation{}, fmt.Errorf("fsm: Start: %w", err)
	}
	f := m.begin(ctx, Start)
	f.status, f.clientContext, f.epoch = graph.StatusRecording, cc, epoch
	if err := m.fire(f); err != nil {
		return f.op, err
	}
	switch m.State() {
	case AwaitingConfirmation:
		m.pending = &pendingAttempt{clientContext: cc, operationID: f.op.ID, epoch: epoch}
	case Recording:
		if !f.opened {
			return f.op, ErrSuperseded
		}
	}
	return f.op, nil
}

// OperationUpdate feeds a later notification about the pending recording
// attempt (matched by clientContext, or by operation id when the
// notification has no clientContext). completed opens the gate, failed
// returns to NotRecording and returns a *RequestError wrapping
// *graph.OperationError, a still-pending status changes nothing. An update
// for another attempt returns ErrStaleUpdate and changes nothing.
func (m *Machine) OperationUpdate(ctx context.Context, op graph.Operation) error {
	m.lock()
	defer m.unlock()

	if !m.permitted(OperationUpdate) {
		return &TransitionError{State: m.State(), Trigger: OperationUpdate}
	}
	p := m.pending
	if p == nil || !(op.ClientContext == p.clientContext || (op.ClientContext == "" && op.ID != "" && op.ID == p.operationID)) {
		return fmt.Errorf("%w (clientContext %q, operation %q)", ErrStaleUpdate, op.ClientContext, op.ID)
	}
	if !op.Status.Known() {
		return &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: m.State(), Operation: op, Err: op.Err()}
	}
	f := m.begin(ctx, OperationUpdate)
	f.status, f.clientContext, f.epoch = graph.StatusRecording, p.clientContext, p.epoch
	f.update, f.op, f.sent = &op, op, true
	if err := m.fire(f); err != nil {
		return err
	}
	switch m.State() {
	case Recording:
		m.pending = nil
		if !f.opened {
			return ErrSuperseded
		}
	case NotRecording:
		m.pending = nil
		return &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: NotRecording, Operation: op, Err: op.Err()}
	}
	return nil
}

// Stop ends the recording and reports it: the gate closes at once, the
// machine waits for every held lease, runs the recording-ended hook, and
// only then sends notRecording. If that request fails the machine stays in
// Stopping with the gate closed and the error is returned; call Stop again
// to retry the report. If ctx ends while a writer still holds a lease, Stop
// returns ctx's error before anything is sent.
func (m *Machine) Stop(ctx context.Context) error {
	return m.stop(ctx, Stop, graph.StatusNotRecording)
}

// Fail is Stop for a recording that broke: same order, but the report is
// failed, and the machine ends in Failed.
func (m *Machine) Fail(ctx context.Context) error {
	return m.stop(ctx, Fail, graph.StatusFailed)
}

func (m *Machine) stop(ctx context.Context, t Trigger, status graph.Status) error {
	lateClose := m.mutant(hooks.StopClosesUnderLock)
	if !lateClose {
		m.closeGate(t) // first, at once: even a transition in flight cannot reopen it
	}
	m.yield(hooks.GateClosed)
	m.lock()
	defer m.unlock()
	if lateClose {
		m.closeGate(t)
	}

	if !m.permitted(t) {
		return &TransitionError{State: m.State(), Trigger: t}
	}
	cc, err := m.nextClientContext()
	if err != nil {
		return fmt.Errorf("fsm: %s: %w", t, err)
	}
	// One firing serves both steps: leaving Recording (or
	// AwaitingConfirmation) for Stopping, which has no guard and sends
	// nothing, then the report from Stopping.
	f := m.begin(ctx, t)
	f.status, f.clientContext = status, cc
	hookLate := false
	switch m.State() {
	case Recording:
		// Rule R2: persistence ends before anything is reported.
		hookLate = m.mutant(hooks.HookAfterReport)
		if err := m.endPersistence(ctx, t, !hookLate); err != nil {
			return err
		}
		fallthrough
	case AwaitingConfirmation:
		m.pending = nil
		if err := m.fire(f); err != nil {
			return err
		}
	}
	err = m.fire(f)
	if hookLate {
		_ = m.runHook(ctx, t)
	}
	return err
}

// CallEnded ends the machine: the gate closes for good at once (even while
// another transition's Graph request is in flight, whose context is
// cancelled), then, once that transition is out of the way, the machine
// moves to Ended. If it was Recording it waits for the leases and runs the
// recording-ended hook first. No request is sent. Calling it again is a
// no-op.
func (m *Machine) CallEnded(ctx context.Context) error {
	waits := m.mutant(hooks.CallEndedWaits)
	if !waits {
		m.endNow()
	}
	m.yield(hooks.GateClosed)
	m.lock()
	defer m.unlock()
	if waits {
		m.endNow()
	}
	m.pending = nil
	var hookErr error
	if m.State() == Recording {
		// The call is over whatever the bot's files say: end anyway, and
		// report the hook's error (or the caller's context ending while a
		// writer still held a lease) to the caller.
		hookErr = m.endPersistence(ctx, CallEnded, true)
	}
	if err := m.fire(m.begin(ctx, CallEnded)); err != nil {
		return errors.Join(err, hookErr)
	}
	return hookErr
}

// closeGate closes the gate for Stop or Fail and says so.
func (m *Machine) closeGate(t Trigger) {
	m.gate.close()
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventGate, Trigger: t, Open: false, Epoch: m.gate.epoch()})
	}
}

// endNow closes the gate for good and cancels any Graph request in flight.
func (m *Machine) endNow() {
	m.gate.end()
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventGate, Trigger: CallEnded, Open: false, Epoch: m.gate.epoch()})
	}
	m.kill()
}

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

// lock takes the machine's lock; under a checker, the checker's scheduler
// decides when.
func (m *Machine) lock() {
	if h := m.cfg.checker; h != nil {
		h.Yield(hooks.Lock)
		h.Lock()
	}
	m.mu.Lock()
}

func (m *Machine) unlock() {
	m.mu.Unlock()
	if h := m.cfg.checker; h != nil {
		h.Unlock()
	}
}

// yield pauses at p under a checker, and does nothing otherwise.
func (m *Machine) yield(p hooks.Point) {
	if h := m.cfg.checker; h != nil {
		h.Yield(p)
	}
}

// mutant reports whether seeded bug b is switched on (tests only).
func (m *Machine) mutant(b hooks.Mutant) bool {
	return m.cfg.checker != nil && m.cfg.checker.Mutants.Has(b)
}

// begin resets the machine's one firing for a new attempt. Transitions run
// one at a time under m.mu, and the firing never leaves the package (the
// Updater gets a context of its own), so one value serves them all without
// an allocation.
func (m *Machine) begin(ctx context.Context, t Trigger) *firing {
	m.current = firing{parent: ctx, m: m, trigger: t}
	return &m.current
}

func (m *Machine) fire(f *firing) error {
	return m.sm.FireCtx(f, f.trigger)
}

// unhandled turns stateless's "no transition" into recgate's errors.
func (m *Machine) unhandled(ctx context.Context, state stateless.State, trigger stateless.Trigger, unmet []string) error {
	s, t := state.(State), trigger.(Trigger)
	f := firingFrom(ctx)
	if len(unmet) == 0 || f == nil {
		return &TransitionError{State: s, Trigger: t}
	}
	cause := f.err
	if cause == nil {
		cause = fmt.Errorf("reply status %s is not what %s needs", f.op.Status, t)
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(ctx, slog.LevelWarn, "graph did not confirm", "trigger", t, "status", f.status, "clientContext", f.clientContext, "err", cause)
	}
	return &RequestError{CallID: m.callID, Trigger: t, Status: f.status, ClientContext: f.clientContext, State: s, Operation: f.op, Err: cause}
}

func (m *Machine) transitioned(ctx context.Context, tr stateless.Transition) {
	from, to, t := tr.Source.(State), tr.Destination.(State), tr.Trigger.(Trigger)
	if to == Recording {
		openGate(ctx) // the last step of entering Recording
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(ctx, slog.LevelInfo, "transition", "from", from, "to", to, "trigger", t)
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventTransition, From: from, To: to, Trigger: t})
	}
}

// endPersistence ends the recording for rule R2: the gate is closed, every
// lease is waited for, and then the bot's hook runs.
func (m *Machine) endPersistence(ctx context.Context, t Trigger, withHook bool) error {
	// Stop, Fail and CallEnded closed the gate before waiting for the lock,
	// but a Start that began after that close may have got the lock first
	// and opened the gate for its own, newer epoch: close it again here,
	// under the lock, before looking at the leases.
	m.gate.close()
	if !m.mutant(hooks.ReportBeforeDrain) {
		var pause func()
		if m.cfg.checker != nil {
			pause = func() { m.yield(hooks.DrainWait) }
		}
		if err := m.gate.drain(ctx, pause); err != nil {
			return fmt.Errorf("fsm: %s: waiting for writers to release their leases: %w; the gate stays closed and nothing was reported, call %s again", t, err, t)
		}
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventLeasesDrained, Trigger: t})
	}
	m.yield(hooks.Drained)
	if !withHook {
		return nil
	}
	return m.runHook(ctx, t)
}

func (m *Machine) runHook(ctx context.Context, t Trigger) error {
	if m.cfg.hook != nil {
		if err := m.cfg.hook(ctx, t); err != nil {
			return fmt.Errorf("fsm: %s: recording-ended hook: %w; the gate stays closed and nothing was reported", t, err)
		}
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventHookRan, Trigger: t})
	}
	m.yield(hooks.HookDone)
	return nil
}

// send makes the one Graph request of a firing and keeps the reply in it.
func (m *Machine) send(f *firing) {
	if m.gate.ended() {
		f.err = ErrCallEnded
		return
	}
	if f.status == graph.StatusRecording && m.gate.epoch() != f.epoch {
		f.err = ErrSuperseded
		return
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventRequest, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext})
	}
	if m.mutant(hooks.OpenBeforeReply) && f.status == graph.StatusRecording {
		m.gate.open(f.epoch)
	}
	rctx, release := m.requestContext(f.parent)
	if m.mutant(hooks.UnlockedRequest) {
		m.unlock()
	}
	f.op, f.err = m.updater.UpdateRecordingStatus(rctx, m.callID, f.status, f.clientContext)
	if m.mutant(hooks.UnlockedRequest) {
		m.lock()
	}
	release()
	if f.err == nil {
		f.err = f.op.Err()
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventReply, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, Operation: f.op, Err: f.err})
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(f.parent, slog.LevelInfo, "graph reply", "status", f.status, "clientContext", f.clientContext, "operation", f.op.ID, "operationStatus", f.op.Status, "err", f.err)
	}
}

// nextClientContext returns a fresh clientContext: the machine's random
// prefix and a sequence number (at most 54 characters, unique within the
// call and, by the prefix, across calls), or the WithClientContexts
// generator's value, which is checked.
func (m *Machine) nextClientContext() (string, error) {
	if next := m.cfg.clientContext; next != nil {
		cc := next()
		if err := graph.ValidateClientContext(cc); err != nil {
			return "", fmt.Errorf("clientContext generator: %w", err)
		}
		return cc, nil
	}
	var b [64]byte
	out := append(b[:0], m.ccPrefix...)
	return string(strconv.AppendUint(out, m.seq.Add(1), 10)), nil
}

func (m *Machine) log(ctx context.Context, level slog.Level, msg string, args ...any) {
	if m.cfg.logger == nil {
		return
	}
	m.cfg.logger.Log(ctx, level, msg, append([]any{"call", m.callID}, args...)...)
}

// emit stamps e and hands it to the observer. Callers test for an observer
// first, so a machine without one does not even build the Event.
func (m *Machine) emit(e Event) {
	e.Time = time.Now()
	e.CallID = m.callID
	m.cfg.observer(e)
}
