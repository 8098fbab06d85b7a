package roundfifteen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The third team answers the Stop and Fail webhooks at once ("Teams wants
// an answer within seconds, and flushing a long recording takes longer"):
// the handler closes the bot's own admission right away, so no frame that
// comes after the user said stop is taken, and the machine's Stop or Fail
// (drain, hook, report) runs on a goroutine of its own, on
// context.WithoutCancel of the webhook's context with a deadline of its
// own. A report that did not get through is owed, and the next webhook
// from Graph (an operation update) first pays it: the team has no timers
// ("the next notification retries what is owed"). The owing is forgotten
// when the user asks again (Start, Stop, Fail) or the call ends.
//
// OwedReportAnyError owes a report after any error, also after 403 8506
// (not a compliance-recording call) and 404 (the call is gone), which
// Graph refuses for good. The suite's rule for a report refused for good
// (properties/invariant.go World.reportRefusedBy) exempts a bot call's
// report after one the bot's own goroutine sent (reportRefusedBg): here
// the refused report came from the Stop's goroutine, and the one sent
// again from the OperationUpdate handler.

// owedStopTimeout bounds the machine's Stop run in the background.
const owedStopTimeout = 5 * time.Second

// owedBot is the README wiring with Stop and Fail in the background.
type owedBot struct {
	*fsmBot
	owes func(error) bool // which report errors leave the report owed

	closed atomic.Bool // admission closed by Stop or Fail, until Start
	tasks  sync.WaitGroup

	mu   sync.Mutex
	owed func(context.Context) error // the machine's Stop or Fail, or nil
}

func newOwedBot(env *properties.Env, owes func(error) bool) (*owedBot, error) {
	b := &owedBot{owes: owes}
	base, err := newFSMBot(env, wiring{admits: func() bool { return !b.closed.Load() }})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewOwedReportAnyError owes a failed report after any error (P3 after
// 8506 or 404).
func NewOwedReportAnyError(env *properties.Env) (properties.Bot, error) {
	return newOwedBot(env, func(error) bool { return true })
}

// NewOwedReportTransient owes a failed report only after an error that
// may not have reached Graph or that Graph could not take now: a timeout,
// a 5xx, 429, a failed operation.
func NewOwedReportTransient(env *properties.Env) (properties.Bot, error) {
	return newOwedBot(env, transientReportError)
}

// transientReportError: a report worth sending again.
func transientReportError(err error) bool {
	var ge *graph.Error
	if errors.As(err, &ge) {
		return ge.StatusCode >= 500 || ge.StatusCode == 429
	}
	var oe *graph.OperationError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func (b *owedBot) setOwed(f func(context.Context) error) {
	b.mu.Lock()
	b.owed = f
	b.mu.Unlock()
}

// Start forgets what is owed, lets the last Stop finish, and starts.
func (b *owedBot) Start(ctx context.Context) error {
	b.setOwed(nil)
	b.tasks.Wait()
	b.closed.Store(false)
	_, err := b.m.Start(ctx)
	return err
}

// Stop closes admission and stops the machine in the background.
func (b *owedBot) Stop(ctx context.Context) error { return b.end(ctx, b.m.Stop) }

// Fail closes admission and fails the recording in the background.
func (b *owedBot) Fail(ctx context.Context) error { return b.end(ctx, b.m.Fail) }

func (b *owedBot) end(ctx context.Context, end func(context.Context) error) error {
	b.closed.Store(true)
	b.setOwed(nil)
	b.tasks.Add(1)
	go func() {
		defer b.tasks.Done()
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), owedStopTimeout)
		defer cancel()
		if err := end(bg); err != nil && b.m.State() == fsm.Stopping && b.owes(err) {
			b.setOwed(end)
		}
	}()
	return nil // accepted
}

// OperationUpdate pays what is owed first, then feeds the update.
func (b *owedBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	b.mu.Lock()
	owed := b.owed
	b.owed = nil
	b.mu.Unlock()
	if owed != nil && b.m.State() == fsm.Stopping {
		if err := owed(ctx); err != nil && b.m.State() == fsm.Stopping && b.owes(err) {
			b.setOwed(owed)
		}
	}
	return b.m.OperationUpdate(ctx, op)
}

// CallEnded forgets what is owed and ends the machine.
func (b *owedBot) CallEnded(ctx context.Context) error {
	b.setOwed(nil)
	b.closed.Store(true)
	return b.m.CallEnded(ctx)
}

// Frame drops a frame once Stop or Fail was asked, else writes it under
// a lease.
func (b *owedBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if b.closed.Load() {
		return errNotOpen
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}

// Close lets the background Stop finish.
func (b *owedBot) Close(context.Context) error {
	b.tasks.Wait()
	return nil
}

// GateOpen reports the bot's own gate: fsm's, and admission not closed by
// a Stop or Fail (properties.GateReporter).
func (b *owedBot) GateOpen() bool { return !b.closed.Load() && b.m.Gate().IsOpen() }
