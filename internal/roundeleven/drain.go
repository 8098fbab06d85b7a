package roundeleven

import (
	"context"
	"fmt"
	"time"

	"github.com/recgate/recgate/properties"
)

// frameTime is one 20 ms audio frame: what the drains below wait.
const frameTime = 20 * time.Millisecond

// NewTimerDrain builds SleepDrain (internal/roundten) written with a
// timer: the hook waits one frame time on a timer's channel, or for its
// context, "so Stop can still be cancelled", before it flushes and the
// machine reports. It waits for no write: one slower than the timer lands
// after notRecording.
func NewTimerDrain(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, _ *flagBot) error {
		t := time.NewTimer(frameTime)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// NewSleepDrainShort builds SleepDrain with a 2 ms sleep ("a write
// takes microseconds").
func NewSleepDrainShort(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(context.Context, *flagBot) error {
		time.Sleep(2 * time.Millisecond)
		return nil
	})
}

// NewPollingDrain builds the flag bot done right with the simplest wait a
// team writes: the hook polls the count of handlers in flight every
// millisecond (time.Sleep) until it is zero, then flushes. Correct: no
// write is in flight when the machine reports.
func NewPollingDrain(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, b *flagBot) error {
		for b.inflight.Load() != 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("roundeleven: frame handlers still writing: %w", err)
			}
			time.Sleep(time.Millisecond)
		}
		return nil
	})
}

// NewPollThenGiveUp builds the polling hook with a budget: it polls every
// millisecond, but only for one frame time ("never hold up the report"),
// then flushes and lets the machine report whether or not writes are in
// flight.
func NewPollThenGiveUp(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, b *flagBot) error {
		deadline := time.Now().Add(frameTime)
		for b.inflight.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		return nil
	})
}
