package roundseven

import (
	"context"
	"time"

	"github.com/recgate/recgate/properties"
)

// NewWebhookStop builds a correct bot whose Stop, Fail and CallEnded
// handlers (the webhook's) hand the transition to a goroutine of its own,
// on a context detached from the webhook's request with a deadline of its
// own, and wait for its result, so that a webhook that times out does not
// cancel a report half sent. Media writers run meanwhile, each frame
// under its lease.
func NewWebhookStop(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &webhookBot{fsmBot: base}, nil
}

type webhookBot struct{ *fsmBot }

// onGoroutine runs fn on a goroutine of its own and waits for it, or for
// ctx (the goroutine then finishes on its own deadline).
func onGoroutine(ctx context.Context, fn func(context.Context) error) error {
	done := make(chan error, 1)
	go func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		done <- fn(c)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *webhookBot) Stop(ctx context.Context) error { return onGoroutine(ctx, b.m.Stop) }
func (b *webhookBot) Fail(ctx context.Context) error { return onGoroutine(ctx, b.m.Fail) }
func (b *webhookBot) CallEnded(ctx context.Context) error {
	return onGoroutine(ctx, b.m.CallEnded)
}
