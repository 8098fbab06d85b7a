package roundeight

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// NewOptimisticOnNotification builds a bot whose notification webhook
// believes a completed update at once: it sets a "recording" flag before
// it hands the update to the machine ("media written from this moment on
// must not be lost while fsm catches up"), and clears it if the machine
// refuses the update (a stale one, for an attempt that was stopped or
// superseded). Frames the gate refuses are written anyway while the flag
// is set. The window lasts as long as the webhook handles the
// notification (the flag also follows the gate's closing, so it never
// outlives a recording); media keeps arriving meanwhile, and frames from
// before consent (or after a Stop) are persisted on a stale completed.
func NewOptimisticOnNotification(env *properties.Env) (properties.Bot, error) {
	return newOptimisticOn(env.CallID, env.Updater, env.Streams, env.Sink, wiring{opened: env.GateOpened})
}

func newOptimisticOn(callID string, u fsm.Updater, n int, st storage, w wiring) (*optimisticBot, error) {
	b := &optimisticBot{}
	more := w.observer
	w.observer = func(e fsm.Event) {
		if e.Kind == fsm.EventGate && !e.Open {
			b.optimistic.Store(false) // the flag never outlives the gate
		}
		if more != nil {
			more(e)
		}
	}
	base, err := newFSMBot(callID, u, n, st, w)
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type optimisticBot struct {
	*fsmBot
	optimistic atomic.Bool
}

func (b *optimisticBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	if op.Status.Confirmed() {
		b.optimistic.Store(true)
	}
	err := b.m.OperationUpdate(ctx, op)
	if err != nil || !b.m.Gate().IsOpen() {
		b.optimistic.Store(false)
	}
	return err
}

func (b *optimisticBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if errors.Is(err, fsm.ErrGateClosed) && b.optimistic.Load() {
		_, err = b.store.Write(stream, p) // fsm is one notification behind
		return err
	}
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, p)
	return err
}

// NewHangupFinalizeBeforeClose builds a bot whose hang-up path finalizes
// the recording before it tells the machine: CallEnded puts the recorder
// in "finalizing" mode, in which frames still coming from the media
// socket's buffers are appended straight to the file ("the last words
// belong in the recording"), flushes and closes the file, and only then
// calls the machine's CallEnded and drops later frames. Stop and Fail are
// fsm's, and right. Every frame that arrives while the file is finalized
// arrived after the call ended, and is persisted.
func NewHangupFinalizeBeforeClose(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &finalizeBot{fsmBot: base}, nil
}

func newFinalizeOn(callID string, u fsm.Updater, n int, st storage) (*finalizeBot, error) {
	base, err := newFSMBot(callID, u, n, st, wiring{})
	if err != nil {
		return nil, err
	}
	return &finalizeBot{fsmBot: base}, nil
}

type finalizeBot struct {
	*fsmBot
	finalizing atomic.Bool
	over       atomic.Bool
}

func (b *finalizeBot) Frame(ctx context.Context, stream int, p []byte) error {
	switch {
	case b.over.Load():
		return errCallOver
	case b.finalizing.Load():
		if err := b.checkStream(stream); err != nil {
			return err
		}
		_, err := b.store.Write(stream, p)
		return err
	}
	return b.fsmBot.Frame(ctx, stream, p)
}

func (b *finalizeBot) CallEnded(ctx context.Context) error {
	b.finalizing.Store(true)
	ferr := b.store.Flush() // finalize: flush and close the file
	err := b.m.CallEnded(ctx)
	b.over.Store(true)
	b.finalizing.Store(false)
	return errors.Join(ferr, err)
}
