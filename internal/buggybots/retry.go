package buggybots

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Start retries, right and wrong.
//
// Graph throttles (429) and has bad minutes (503, 504); the rule allows the
// same request again after those. It does not allow it after the policy
// refusal 8506 (the call is not a compliance-recording call: fix the
// policy), after a failed operation (Graph said no), after a timeout (the
// first request may still land) or once the call is gone.

const (
	startTries = 3
	// retryWaitCap caps the wait for Retry-After. The suite's Graph
	// answers at once; a production bot caps at what its callers can
	// bear (seconds).
	retryWaitCap = 2 * time.Millisecond
)

// retryingStart is correct: it retries Start only after 429, 503 or 504,
// and not once the bot was asked to Stop, Fail or leave the call.
type retryingStart struct {
	*machineBot
	stops atomic.Uint64 // bumped first thing by Stop, Fail and CallEnded
}

// NewRetryingStart builds the correct retrying bot.
func NewRetryingStart(env *properties.Env) (properties.Bot, error) {
	b := &retryingStart{}
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

func (b *retryingStart) Start(ctx context.Context) error {
	asked := b.stops.Load()
	for try := 1; ; try++ {
		_, err := b.m.Start(ctx)
		var ge *graph.Error
		if err == nil || try == startTries || !errors.As(err, &ge) || !ge.Temporary() {
			return err
		}
		if !wait(ctx, min(ge.RetryAfter, retryWaitCap)) || b.stops.Load() != asked {
			return err // the caller gave up, or asked to stop meanwhile
		}
	}
}

func (b *retryingStart) Stop(ctx context.Context) error {
	b.stops.Add(1)
	return b.m.Stop(ctx)
}

func (b *retryingStart) Fail(ctx context.Context) error {
	b.stops.Add(1)
	return b.m.Fail(ctx)
}

func (b *retryingStart) CallEnded(ctx context.Context) error {
	b.stops.Add(1)
	return b.m.CallEnded(ctx)
}

// wait sleeps d unless ctx ends first; it reports whether it slept.
func wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryOn8506 is the bug. The team wrapped Start in the retry helper they
// use for blob storage ("three tries with backoff, give up on
// cancellation"): it also retries the 8506 policy refusal, a failed
// operation, a timeout and a terminated call, each a second request in one
// attempt that the rule does not allow (P3).
type retryOn8506 struct{ *machineBot }

// NewRetryOn8506 builds the bot that retries Start after any error.
func NewRetryOn8506(env *properties.Env) (properties.Bot, error) {
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	return &retryOn8506{mb}, nil
}

func (b *retryOn8506) Start(ctx context.Context) error {
	return withRetries(ctx, startTries, time.Millisecond, func() error {
		_, err := b.m.Start(ctx)
		return err
	})
}

// withRetries is the team's generic helper: try up to n times with
// exponential backoff; stop early only if the caller cancelled.
func withRetries(ctx context.Context, n int, backoff time.Duration, op func() error) error {
	var err error
	for i := 0; i < n; i++ {
		if err = op(); err == nil || errors.Is(err, context.Canceled) {
			return err
		}
		if !wait(ctx, backoff<<i) {
			return err
		}
	}
	return err
}
