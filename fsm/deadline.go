package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/recgate/recgate/graph"
)

// DefaultConfirmationDeadline is how long a pending recording attempt waits
// for its outcome unless WithConfirmationDeadline says otherwise.
//
// Graph finishes an updateRecordingStatus operation within seconds and
// notifies the bot's callback right away; a minute leaves room for a slow
// service and a redelivered notification. It is also as long as the meeting
// may show a recording that is not happening: Graph accepted "recording",
// and may complete it, while the bot persists nothing. After the deadline
// the machine tells Graph failed, so the indicator stops saying recording.
const DefaultConfirmationDeadline = 60 * time.Second

// pendingAttempt is the recording attempt in AwaitingConfirmation. Its
// fields are written under the machine's lock; reply is never changed.
type pendingAttempt struct {
	clientContext string
	operationID   string
	epoch         uint64
	reply         graph.Operation // Start's reply: its Location is what polling reads

	stopDeadline func() bool
	stopPoll     func() bool
	polls        int
}

// afterFunc runs f in its own goroutine after d, unless stop is called
// first; time.AfterFunc, or a clock a test controls.
type afterFunc func(d time.Duration, f func()) (stop func() bool)

func realAfter(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }

// withTimer replaces time.AfterFunc for the confirmation deadline and the
// polls, so that tests fire them when they choose (see export_test.go).
func withTimer(after func(d time.Duration, f func()) (stop func() bool)) Option {
	return func(c *config) error {
		if after == nil {
			return errors.New("fsm: withTimer(nil)")
		}
		c.after = after
		return nil
	}
}

// WithConfirmationDeadline sets how long a pending recording attempt
// (AwaitingConfirmation) waits for its outcome: a completed or failed
// OperationUpdate or notification, or what polling finds. When the deadline
// passes first, the attempt ends with the gate still closed (it never
// opened), the machine reports failed to Graph (trigger
// ConfirmationTimeout) and moves to Failed; a completed that arrives later
// is stale (ErrStaleUpdate) and never opens the gate. If Graph refuses the
// failed report, the machine stays in Stopping, and Stop or Fail retries.
//
// Why failed and not notRecording: nothing was recorded, so there is no
// recording to say has ended (rule R2's notRecording); the attempt to
// start one failed, and failed says that to Graph and to the meeting.
//
// d must be positive; the default is DefaultConfirmationDeadline. The
// deadline cannot be switched off: a pending attempt that waits for ever
// leaves Graph's indicator wrong for ever. Pass a long d if confirmations
// take long where the bot runs. Machines driven by recgate's model checker
// run no timers.
func WithConfirmationDeadline(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("fsm: WithConfirmationDeadline(%v): want a positive duration (the default is %v); the deadline cannot be switched off", d, DefaultConfirmationDeadline)
		}
		c.deadline = d
		return nil
	}
}

// OperationGetter reads an operation's current state from its Location.
// *graph.Client satisfies it; it refuses a Location that is not on the
// configured Graph host or not an operation of the call.
type OperationGetter interface {
	Operation(ctx context.Context, callID string, op graph.Operation) (graph.Operation, error)
}

var _ OperationGetter = (*graph.Client)(nil)

type pollConfig struct {
	getter   OperationGetter
	interval time.Duration
	max      int
}

// WithOperationPolling is the opt-in fallback for a bot that cannot receive
// Graph's notifications: while a recording attempt is pending, the machine
// reads the operation's Location every interval, at most maxPolls times,
// and feeds what it finds to the attempt as an OperationUpdate would
// (recorded as ViaPoll). Polling stops when the attempt gets its outcome,
// is stopped, times out, or the call ends; the confirmation deadline still
// applies. A poll that fails is logged and the next one is tried. Each read
// gets a context that ends at the confirmation deadline; the getter should
// bound its own requests too (graph.Client does).
//
// Graph tells a bot the outcome by notification; prefer a Registry fed by
// the callback handler, and poll only where that cannot be had.
func WithOperationPolling(g OperationGetter, interval time.Duration, maxPolls int) Option {
	return func(c *config) error {
		if isNil(g) {
			return fmt.Errorf("fsm: WithOperationPolling: nil getter (%T); pass a *graph.Client", g)
		}
		if interval <= 0 || maxPolls < 1 {
			return fmt.Errorf("fsm: WithOperationPolling(interval %v, maxPolls %d): want a positive interval and at least one poll", interval, maxPolls)
		}
		c.poll = &pollConfig{getter: g, interval: interval, max: maxPolls}
		return nil
	}
}

// setPending makes p the pending attempt and starts its deadline (and its
// polls). Called with the lock held. A machine under the model checker runs
// no timers: the checker decides every interleaving itself.
func (m *Machine) setPending(p *pendingAttempt) {
	m.clearPending()
	m.pending = p
	if m.cfg.checker != nil {
		return
	}
	p.stopDeadline = m.cfg.after(m.cfg.deadline, func() { m.confirmationExpired(p) })
	if pc := m.cfg.poll; pc != nil {
		p.stopPoll = m.cfg.after(pc.interval, func() { m.poll(p) })
	}
}

// clearPending forgets the pending attempt and stops its timers. Called
// with the lock held.
func (m *Machine) clearPending() {
	p := m.pending
	if p == nil {
		return
	}
	m.pending = nil
	if p.stopDeadline != nil {
		p.stopDeadline()
	}
	if p.stopPoll != nil {
		p.stopPoll()
	}
}

// confirmationExpired ends attempt p if it is still pending: the gate
// closes (a new epoch, so nothing of p can open it), the machine moves to
// Stopping and reports failed.
func (m *Machine) confirmationExpired(p *pendingAttempt) {
	if m.lock(m.life, ConfirmationTimeout) != nil {
		return // the call ended: CallEnded took care of the attempt
	}
	defer m.unlock()
	if m.pending != p {
		return // it got its outcome, or was stopped, first
	}
	m.clearPending()
	m.closeGate(ConfirmationTimeout)
	// The report is a new request with no caller to bound it: give it as
	// long as a default deadline (graph.Client bounds each attempt), not the
	// confirmation deadline, which says nothing about how long Graph takes
	// to answer; a short deadline would leave the machine in Stopping.
	ctx, cancel := context.WithTimeout(context.Background(), max(m.cfg.deadline, DefaultConfirmationDeadline))
	defer cancel()
	if m.cfg.logger != nil {
		m.log(ctx, slog.LevelWarn, "no outcome for the recording attempt within the confirmation deadline; reporting failed",
			"clientContext", p.clientContext, "operation", p.operationID, "deadline", m.cfg.deadline)
	}
	cc, ccErr := m.nextClientContext()
	f := m.begin(ctx, ConfirmationTimeout)
	f.status, f.clientContext = graph.StatusFailed, cc
	err := m.fire(f) // AwaitingConfirmation -> Stopping: no guard, nothing sent
	if err == nil && ccErr != nil {
		err = fmt.Errorf("fsm: %s: %w", ConfirmationTimeout, ccErr)
	}
	if err == nil {
		err = m.fire(f) // Stopping -> Failed once Graph accepts failed
	}
	if err != nil && m.cfg.logger != nil {
		m.log(ctx, slog.LevelWarn, "reporting failed after the confirmation deadline did not succeed; the machine stays in Stopping with the gate closed, Stop or Fail retries", "err", err)
	}
}

// poll reads attempt p's operation once and feeds what it finds to the
// machine. The read is made without the lock, so it never holds up a Stop.
func (m *Machine) poll(p *pendingAttempt) {
	ctx, cancel := context.WithTimeout(m.life, m.cfg.deadline)
	defer cancel()
	got, err := m.cfg.poll.getter.Operation(ctx, m.callID, p.reply)
	// A failed operation comes as an *graph.OperationError with the zero
	// Operation beside it (graph.Client's rule for every error): the
	// operation it carries is the outcome to apply, an 8506 included.
	var refused *graph.OperationError
	if errors.As(err, &refused) && refused.Operation.Status.Refused() {
		got, err = refused.Operation, nil
	}
	if m.lock(m.life, OperationUpdate) != nil {
		return
	}
	defer m.unlock()
	if m.pending != p {
		return
	}
	p.polls++
	switch {
	case err != nil:
		if m.cfg.logger != nil {
			m.log(ctx, slog.LevelWarn, "polling the pending operation failed", "operation", p.operationID, "poll", p.polls, "err", err)
		}
	default:
		// The read is bound to p by its Location, as a reply is bound to its
		// request: a body without clientContext is p's. One naming another
		// attempt is stale, and applyUpdate refuses it.
		if got.ClientContext == "" {
			got.ClientContext = p.clientContext
		}
		_ = m.applyUpdate(ctx, got, origin{via: ViaPoll})
	}
	if m.pending == p && p.polls < m.cfg.poll.max {
		p.stopPoll = m.cfg.after(m.cfg.poll.interval, func() { m.poll(p) })
	}
}
