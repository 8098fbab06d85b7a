package roundten

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// asyncStartBot answers the Start webhook at once and runs the machine's
// Start on a goroutine of its own ("Teams' callbacks must answer within
// a few seconds; Graph can take longer"). Frames go through fsm's leases.
// With acceptedIsRecording, the goroutine also takes a pending reply
// (running, notStarted) as the recording having begun, and the frame
// handler writes what the gate refuses while that is so.
type asyncStartBot struct {
	*fsmBot
	acceptedIsRecording bool
	accepted            atomic.Bool
	wg                  sync.WaitGroup
}

func newAsyncStart(env *properties.Env, acceptedIsRecording bool) (*asyncStartBot, error) {
	b := &asyncStartBot{acceptedIsRecording: acceptedIsRecording}
	base, err := newFSMBot(env, wiring{observer: func(e fsm.Event) {
		if e.Kind == fsm.EventGate && !e.Open {
			b.accepted.Store(false)
		}
		if e.Kind == fsm.EventTransition && e.To != fsm.AwaitingConfirmation && e.To != fsm.Recording {
			b.accepted.Store(false)
		}
	}})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// NewAsyncStartAcceptedIsRecording builds the background Start with the
// team's reading of a pending reply: "202 and an operation that is
// running means Graph accepted the request; the recording has begun".
func NewAsyncStartAcceptedIsRecording(env *properties.Env) (properties.Bot, error) {
	return newAsyncStart(env, true)
}

// NewAsyncStart builds the background Start without that mistake: fsm
// decides everything; the bot only answers the webhook early.
func NewAsyncStart(env *properties.Env) (properties.Bot, error) {
	return newAsyncStart(env, false)
}

// Start runs the machine's Start in the background and returns.
func (b *asyncStartBot) Start(context.Context) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		// The webhook's context ends when it answers: the request gets
		// a context of its own.
		op, err := b.m.Start(context.Background())
		if err == nil && b.acceptedIsRecording && !op.Status.Confirmed() && b.m.State() == fsm.AwaitingConfirmation {
			b.accepted.Store(true)
		}
	}()
	return nil
}

// Frame writes under a lease; a frame the gate refuses is written anyway
// while Graph "accepted" the recording.
func (b *asyncStartBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.frameUnlessBypassed(stream, p, b.accepted.Load)
}

// Close waits for a Start still running in the background.
func (b *asyncStartBot) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// NewWebhookOptimisticWhileAwaiting builds a bot whose notification
// webhook, while the machine awaits Graph's confirmation, believes a
// completed notification at once: it lets media through before it hands
// the notification to the machine ("the first words of a recording must
// not be lost while fsm catches up"), and takes that back if the machine
// refuses it (a late completed for an attempt that was superseded, or
// one whose clientContext is not ours). It is not fooled while Start's
// request is out (the machine then is not awaiting anything), only by a
// completed notification that arrives on its own.
func NewWebhookOptimisticWhileAwaiting(env *properties.Env) (properties.Bot, error) {
	b := &webhookBot{}
	base, err := newFSMBot(env, wiring{observer: func(e fsm.Event) {
		if e.Kind == fsm.EventGate && !e.Open {
			b.optimistic.Store(false)
		}
	}})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type webhookBot struct {
	*fsmBot
	optimistic atomic.Bool
}

// OperationUpdate opens the media path first when the machine awaits a
// confirmation and the notification says completed.
func (b *webhookBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	if op.Status.Confirmed() && b.m.State() == fsm.AwaitingConfirmation {
		b.optimistic.Store(true)
	}
	err := b.m.OperationUpdate(ctx, op)
	if err != nil || !b.m.Gate().IsOpen() {
		b.optimistic.Store(false)
	}
	return err
}

// Frame writes under a lease, or, while the webhook is optimistic, what
// the gate refuses.
func (b *webhookBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.frameUnlessBypassed(stream, p, b.optimistic.Load)
}
