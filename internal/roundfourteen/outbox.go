package roundfourteen

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// The second team answers the Stop webhook at once: if the machine's
// report did not get through, Stop hands the retry to a background
// retrier ("an outbox: Graph must hear that recording ended, R2, and the
// webhook must not wait for it"). The retrier calls the machine's Stop or
// Fail again, as fsm's documentation says ("call Stop again to retry the
// report"), on a context of its own, a few times with a short backoff,
// while the machine is still in Stopping. A new Stop or Fail takes over
// from it, and CallEnded and Close end it: each cancels it and waits.

// outboxTries bounds the retrier's tries per report, and outboxBackoff
// is the wait before each.
const (
	outboxTries   = 3
	outboxBackoff = 2 * time.Millisecond
)

// outboxBot is the README wiring with the retrier.
type outboxBot struct {
	*fsmBot
	// worthRetrying says which report errors the retrier retries.
	worthRetrying func(error) bool

	mu       sync.Mutex
	ended    bool               // the call ended, or the bot was closed
	cancel   context.CancelFunc // the retrier under way, or nil
	retriers sync.WaitGroup
}

func newOutboxBot(env *properties.Env, worthRetrying func(error) bool) (*outboxBot, error) {
	base, err := newFSMBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &outboxBot{fsmBot: base, worthRetrying: worthRetrying}, nil
}

// NewReportOutbox retries a failed report on any error: also after 403
// 8506 (not a compliance-recording call) and 404 (the call is gone),
// which Graph will refuse again for good ("Graph was flaky; the outbox
// delivers").
func NewReportOutbox(env *properties.Env) (properties.Bot, error) {
	return newOutboxBot(env, func(error) bool { return true })
}

// NewReportOutboxTransient retries only a report that may not have
// reached Graph or that Graph could not take now: a timeout, a 5xx, 429,
// a failed operation. Never 8506 or a call that is gone.
func NewReportOutboxTransient(env *properties.Env) (properties.Bot, error) {
	return newOutboxBot(env, transientReportError)
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

// Stop stops the machine and hands a failed report to the retrier.
func (b *outboxBot) Stop(ctx context.Context) error { return b.end(ctx, b.m.Stop) }

// Fail fails the recording and hands a failed report to the retrier.
func (b *outboxBot) Fail(ctx context.Context) error { return b.end(ctx, b.m.Fail) }

func (b *outboxBot) end(ctx context.Context, end func(context.Context) error) error {
	b.stopRetrier(false) // this Stop takes over
	err := end(ctx)
	if err == nil || b.m.State() != fsm.Stopping || !b.worthRetrying(err) {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended || b.cancel != nil {
		return nil // the call is over, or a Stop beside this one handed over first
	}
	life, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.retriers.Add(1)
	go b.retry(life, end)
	return nil // accepted: the outbox delivers the report
}

func (b *outboxBot) retry(life context.Context, end func(context.Context) error) {
	defer b.retriers.Done()
	for try := 0; try < outboxTries; try++ {
		t := time.NewTimer(outboxBackoff)
		select {
		case <-life.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if b.m.State() != fsm.Stopping {
			return // reported, or the call ended
		}
		ctx, cancel := context.WithTimeout(life, senderRequestTimeout)
		err := end(ctx)
		cancel()
		if err == nil || !b.worthRetrying(err) {
			return
		}
	}
}

// CallEnded ends the retrier, then the machine.
func (b *outboxBot) CallEnded(ctx context.Context) error {
	b.stopRetrier(true)
	return b.m.CallEnded(ctx)
}

// Close ends the retrier.
func (b *outboxBot) Close(context.Context) error {
	b.stopRetrier(true)
	return nil
}

// stopRetrier cancels the retrier under way and waits for it; with
// final, no retrier starts again.
func (b *outboxBot) stopRetrier(final bool) {
	b.mu.Lock()
	if final {
		b.ended = true
	}
	if b.cancel != nil {
		b.cancel()
		b.cancel = nil
	}
	b.mu.Unlock()
	b.retriers.Wait()
}
