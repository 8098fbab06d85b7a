package properties

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// mutantPause is the pause of a machine with seeded bugs outside the model
// checker: nothing, except in the drain's wait for a lease, where it
// sleeps as the machine does without hooks (a tight spin would never look
// blocked to the suite, which waits for concurrent events to block).
func mutantPause(p hooks.Point) {
	if p == hooks.DrainWait {
		time.Sleep(50 * time.Microsecond)
	}
}

// ReferenceBot is recgate's own wiring, built on fsm: one Machine per call,
// a Stream per media stream, and a recording-ended hook that flushes the
// sink. It passes the suite; read it as the model for your own wiring.
func ReferenceBot(env *Env) (Bot, error) { return newReferenceBot(env, 0) }

// errGateClosed is what the reference bot returns for a dropped frame.
var errGateClosed = errors.New("properties: frame dropped: gate closed")

type referenceBot struct {
	m       *fsm.Machine
	streams []*fsm.Stream
	sink    *Sink
	mutants hooks.Mutant
}

func newReferenceBot(env *Env, mutants hooks.Mutant) (*referenceBot, error) {
	return newReferenceBotOver(env, env.Updater, mutants)
}

// newReferenceBotOver is newReferenceBot with the machine's requests sent
// through updater (a test's sender goroutine).
func newReferenceBotOver(env *Env, updater fsm.Updater, mutants hooks.Mutant) (*referenceBot, error) {
	opts := []fsm.Option{
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				env.GateOpened()
			}
			if e.Kind == fsm.EventGate && !e.Open {
				env.GateClosed()
			}
		}),
	}
	if mutants != 0 {
		opts = append(opts, withHooks(&hooks.Hooks{
			Yield: mutantPause, Lock: func() {}, Unlock: func() {}, Mutants: mutants,
		}))
	}
	m, err := fsm.New(env.CallID, updater, opts...)
	if err != nil {
		return nil, err
	}
	b := &referenceBot{m: m, sink: env.Sink, mutants: mutants}
	for i := 0; i < env.Streams; i++ {
		b.streams = append(b.streams, m.Gate().NewStream())
	}
	return b, nil
}

func (b *referenceBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	return err
}

func (b *referenceBot) Stop(ctx context.Context) error { return b.m.Stop(ctx) }
func (b *referenceBot) Fail(ctx context.Context) error { return b.m.Fail(ctx) }
func (b *referenceBot) CallEnded(ctx context.Context) error {
	return b.m.CallEnded(ctx)
}

func (b *referenceBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return b.m.OperationUpdate(ctx, op)
}

// Frame persists payload through the gate: take the stream's lease, write,
// release.
func (b *referenceBot) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= len(b.streams) {
		return fmt.Errorf("properties: no stream %d", stream)
	}
	if b.mutants.Has(hooks.CheckThenWrite) {
		// The seeded bug: check, then write without a lease.
		if !b.m.Gate().IsOpen() {
			return errGateClosed
		}
		_, err := b.sink.Write(stream, payload)
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		if errors.Is(err, fsm.ErrGateClosed) {
			return errGateClosed
		}
		return err
	}
	defer lease.Release()
	_, err = b.sink.Write(stream, payload)
	return err
}

func (b *referenceBot) GateOpen() bool { return b.m.Gate().IsOpen() }

func (b *referenceBot) Introspect() {
	for _, t := range fsm.Triggers() {
		_ = b.m.CanFire(t)
	}
	_ = b.m.PermittedTriggers()
	_ = b.m.String()
	_ = b.m.DOT()
}
