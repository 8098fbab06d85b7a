package properties

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// spinningAsyncBot starts recording on a goroutine of its own, once a
// frame handler has begun, and its frame handler is still running (it
// spins) when that request goes out. It writes only under fsm's lease, so
// it is correct: the frame it is handling arrived before Graph's
// completed, and the gate it asks for a lease is shut or open by then.
// Before replies to a bot's own goroutine landed between frames, the reply
// landed inside the spin, the lease was taken after the gate opened, and
// the suite blamed the bot for persisting a frame that arrived before
// consent (P7), in nearly every run.
type spinningAsyncBot struct {
	*referenceBot               // Stop, Fail, CallEnded, OperationUpdate as the reference wiring
	busy          atomic.Bool   // a background Start runs: one at a time
	waiting       atomic.Bool   // a background Start waits for a frame handler
	entered       chan struct{} // one has begun
	sent          atomic.Bool   // the background Start's request is out, or it returned
	wg            sync.WaitGroup
}

type flagOnSend struct {
	u    *Updater
	sent *atomic.Bool
}

func (f flagOnSend) UpdateRecordingStatus(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
	if status == graph.StatusRecording {
		f.sent.Store(true)
	}
	return f.u.UpdateRecordingStatus(ctx, callID, status, clientContext)
}

func newSpinningAsyncBot(env *Env) (Bot, error) {
	b := &spinningAsyncBot{entered: make(chan struct{}, 1)}
	ref, err := newReferenceBotOver(env, flagOnSend{env.Updater, &b.sent}, 0)
	if err != nil {
		return nil, err
	}
	b.referenceBot = ref
	return b, nil
}

func (b *spinningAsyncBot) Start(context.Context) error {
	if !b.busy.CompareAndSwap(false, true) {
		return nil // the Start under way is this one too
	}
	select {
	case <-b.entered: // a signal the last Start did not wait for
	default:
	}
	b.sent.Store(false)
	b.waiting.Store(true)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case <-b.entered:
		case <-time.After(20 * time.Millisecond): // no frame came
			b.waiting.Store(false)
		}
		_, _ = b.m.Start(context.Background())
		b.sent.Store(true) // also when the machine sent nothing
		b.busy.Store(false)
	}()
	return nil
}

// Frame spins, if a background Start waits for it, until that Start's
// request is out and a little longer; then it is the reference bot's.
func (b *spinningAsyncBot) Frame(ctx context.Context, stream int, p []byte) error {
	if b.waiting.CompareAndSwap(true, false) {
		b.entered <- struct{}{}
		for deadline := time.Now().Add(time.Second); !b.sent.Load() && time.Now().Before(deadline); {
			runtime.Gosched()
		}
		for until := time.Now().Add(2 * time.Millisecond); time.Now().Before(until); {
			runtime.Gosched()
		}
	}
	if err := b.referenceBot.Frame(ctx, stream, p); err != nil && !errors.Is(err, errGateClosed) {
		return err
	}
	return nil // the gate is shut: drop the frame
}

func (b *spinningAsyncBot) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func TestBackgroundReplyLandsBetweenFrames(t *testing.T) {
	v := RunSuite(newSpinningAsyncBot)
	if !v.Passed {
		t.Fatalf("a bot that writes only under fsm's lease failed because its background Start's reply landed while it handled a frame:\n%.4000s", v.Output)
	}
}
