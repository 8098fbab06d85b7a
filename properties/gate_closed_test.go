package properties

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// admitUntilHookBot admits frames from fsm's gate opening until its
// recording-ended hook runs, without a lease, and hands them to a writer
// goroutine that the hook waits for: a frame that arrives after Stop
// closed the gate and before the hook is written. Nothing of the suite
// ran in that window (no write of a bot call holds a lease for Stop to
// wait for) until the bot told the suite its gate closed
// (Env.GateClosed).
type admitUntilHookBot struct {
	m     *fsm.Machine
	sink  *Sink
	admit atomic.Bool
	queue chan queued
}

// queued is a frame for the writer, or (written set) a marker the writer
// closes once everything queued before it is written.
type queued struct {
	stream  int
	payload []byte
	written chan struct{}
}

// drain waits until the writer has written everything queued so far.
func (b *admitUntilHookBot) drain() {
	q := queued{written: make(chan struct{})}
	b.queue <- q
	<-q.written
}

func newAdmitUntilHookBot(env *Env) (Bot, error) {
	b := &admitUntilHookBot{sink: env.Sink, queue: make(chan queued, 1024)}
	go func() {
		for q := range b.queue {
			if q.written != nil {
				close(q.written)
				continue
			}
			_, _ = b.sink.Write(q.stream, q.payload)
		}
	}()
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
			b.admit.Store(false)
			b.drain()
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			if e.Open {
				b.admit.Store(true)
				env.GateOpened()
			} else {
				env.GateClosed()
			}
		}))
	if err != nil {
		close(b.queue)
		return nil, err
	}
	b.m = m
	return b, nil
}

func (b *admitUntilHookBot) Close(context.Context) error {
	b.drain()
	close(b.queue)
	return nil
}

func (b *admitUntilHookBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}
func (b *admitUntilHookBot) Stop(ctx context.Context) error      { return b.m.Stop(ctx) }
func (b *admitUntilHookBot) Fail(ctx context.Context) error      { return b.m.Fail(ctx) }
func (b *admitUntilHookBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }
func (b *admitUntilHookBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}
func (b *admitUntilHookBot) Frame(_ context.Context, stream int, p []byte) error {
	if !b.admit.Load() {
		return nil
	}
	b.queue <- queued{stream: stream, payload: append([]byte(nil), p...)}
	return nil
}

func TestFramesArriveWhenTheGateCloses(t *testing.T) {
	v := RunSuite(newAdmitUntilHookBot)
	if v.Passed || !(strings.Contains(v.Output, "P7 ") || strings.Contains(v.Output, "P1 ") || strings.Contains(v.Output, "P9 ")) {
		t.Fatalf("a bot that admits frames from its gate's closing until its hook was not caught (passed: %v):\n%.3000s", v.Passed, v.Output)
	}
}
