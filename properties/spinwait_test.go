package properties

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// spinBot keeps the rule: every byte is written under an fsm lease, each
// frame in chunks Sink writes, and its Stop spin-waits (Gosched) for its
// own frames in flight before it calls the machine's Stop. A Stop that
// spins never looks blocked to the suite.
type spinBot struct {
	m        *fsm.Machine
	sink     *Sink
	streams  []*fsm.Stream
	chunks   int
	closing  atomic.Bool
	inflight atomic.Int64
}

func (b *spinBot) Start(ctx context.Context) error {
	b.closing.Store(false)
	_, err := b.m.Start(ctx)
	return err
}
func (b *spinBot) Stop(ctx context.Context) error {
	b.closing.Store(true)
	for b.inflight.Load() > 0 {
		runtime.Gosched()
	}
	return b.m.Stop(ctx)
}
func (b *spinBot) Fail(ctx context.Context) error      { return b.m.Fail(ctx) }
func (b *spinBot) CallEnded(ctx context.Context) error { return b.m.CallEnded(ctx) }
func (b *spinBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}
func (b *spinBot) Frame(ctx context.Context, stream int, payload []byte) error {
	b.inflight.Add(1)
	defer b.inflight.Add(-1)
	if b.closing.Load() {
		return nil
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return nil
	}
	defer lease.Release()
	n := len(payload) / b.chunks
	for i := 0; i < b.chunks; i++ {
		end := (i + 1) * n
		if i == b.chunks-1 {
			end = len(payload)
		}
		_, _ = b.sink.Write(stream, payload[i*n:end])
	}
	return nil
}

func spinFactory(chunks int) Factory {
	return func(env *Env) (Bot, error) {
		m, err := fsm.New(env.CallID, env.Updater, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }))
		if err != nil {
			return nil, err
		}
		b := &spinBot{m: m, sink: env.Sink, chunks: chunks}
		for i := 0; i < env.Streams; i++ {
			b.streams = append(b.streams, m.Gate().NewStream())
		}
		return b, nil
	}
}

// TestSpinningStopDoesNotMakeWritesWait: a write during a concurrent Stop
// waits until that Stop returned or blocked, but a Stop that spins does
// neither; only the first write waits the limit, or a correct bot that
// writes a frame in three pieces ran into its deadline ("the bot hung in
// Stop"; found in review).
func TestSpinningStopDoesNotMakeWritesWait(t *testing.T) {
	if v := RunSuite(spinFactory(3)); !v.Passed {
		t.Errorf("a correct bot whose Stop spins, writing each frame in 3 pieces, failed:\n%.4000s", v.Output)
	}
}
