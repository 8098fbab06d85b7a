package roundten

import (
	"context"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// flagBot persists through a flagGate instead of fsm's leases; fsm runs
// the control side (requests, states, the hook). What the hook does
// before it flushes is the team's choice.
type flagBot struct {
	*fsmBot
	g flagGate
}

// drainPolicy is what a flagBot's hook does with the frame handlers in
// flight before it flushes, by trigger.
type drainPolicy func(ctx context.Context, g *flagGate, trigger fsm.Trigger) error

func newFlagBot(env *properties.Env, drain drainPolicy) (*flagBot, error) {
	b := &flagBot{}
	base, err := newFSMBot(env, wiring{
		observer: b.g.follow,
		hook: func(ctx context.Context, t fsm.Trigger) error {
			if err := drain(ctx, &b.g, t); err != nil {
				return err
			}
			return env.Sink.Flush()
		},
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// Frame writes payload if the flag is set, counted in flight meanwhile.
func (b *flagBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	if !b.g.enter() {
		return errNotOpen
	}
	defer b.g.leave()
	_, err := b.sink.Write(stream, p)
	return err
}

// NewHangupSkipsDrain builds a bot whose recording-ended hook waits for
// the frame handlers in flight before it flushes on Stop and Fail (R2:
// nothing may land after notRecording), but not on CallEnded: "the call
// is gone, there is nothing to report to Graph, and the media platform
// has torn the socket down, so no frame can still be on its way". A frame
// handler that saw the flag set just before the hang-up is still writing:
// its bytes land after CallEnded returned, when the bot has told everyone
// the recording is over.
func NewHangupSkipsDrain(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, g *flagGate, t fsm.Trigger) error {
		if t == fsm.CallEnded {
			return nil
		}
		return g.wait(ctx)
	})
}

// NewFlagGateDrainsAlways is HangupSkipsDrain done right: the hook waits
// for the frame handlers in flight on every trigger, CallEnded included.
func NewFlagGateDrainsAlways(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, g *flagGate, _ fsm.Trigger) error {
		return g.wait(ctx)
	})
}

// sleepDrain is how long SleepDrain's hook waits for frames in flight:
// one 20 ms frame time, "far longer than a write takes".
const sleepDrain = 20 * time.Millisecond

// NewSleepDrain builds a bot whose hook lets the frame handlers in flight
// finish by sleeping one frame time (20 ms): the flag is already cleared (the gate closed), a
// write takes microseconds, so "a frame time is plenty" before it flushes and the
// machine reports. It counts nothing and waits for nothing: a write that
// takes longer than the sleep (storage is slow sometimes) lands after
// notRecording.
func NewSleepDrain(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(context.Context, *flagGate, fsm.Trigger) error {
		time.Sleep(sleepDrain)
		return nil
	})
}
