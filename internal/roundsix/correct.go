package roundsix

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// NewWriterOnly builds a correct bot that persists only through fsm's
// Gate.Writer, one per stream over env.Sink.Stream(i), each used by one
// goroutine at a time (a mutex per stream).
func NewWriterOnly(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	b := &writerOnlyBot{fsmBot: base}
	for i := 0; i < env.Streams; i++ {
		b.writers = append(b.writers, base.m.Gate().Writer(env.Sink.Stream(i)))
		b.mu = append(b.mu, &sync.Mutex{})
	}
	return b, nil
}

type writerOnlyBot struct {
	*fsmBot
	writers []io.Writer
	mu      []*sync.Mutex
}

func (b *writerOnlyBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.writers)); err != nil {
		return err
	}
	b.mu[stream].Lock()
	defer b.mu[stream].Unlock()
	_, err := b.writers[stream].Write(payload)
	return err
}

// NewLeaseBeforeSpawn builds a correct bot with a goroutine per frame: the
// frame handler makes a Stream for the frame, takes its lease, and only
// then spawns the goroutine that writes, releases and closes the Stream.
// Frame returns before the write; Stop waits for the lease.
func NewLeaseBeforeSpawn(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &spawnBot{fsmBot: base}, nil
}

type spawnBot struct {
	*fsmBot
	wg sync.WaitGroup
}

func (b *spawnBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.env.Streams); err != nil {
		return err
	}
	s := b.m.Gate().NewStream()
	lease, err := s.Acquire()
	if err != nil {
		_ = s.Close()
		return err
	}
	p := append([]byte(nil), payload...)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_, _ = b.env.Sink.Write(stream, p)
		lease.Release()
		_ = s.Close()
	}()
	return nil
}

// Close waits for the frame goroutines (properties.Closer).
func (b *spawnBot) Close(context.Context) error {
	b.wg.Wait()
	return nil
}

// NewSlowStorage builds README's wiring over storage that takes 1 ms per
// write, under the lease: Stop waits for each write in progress.
func NewSlowStorage(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &slowBot{fsmBot: base}, nil
}

type slowBot struct{ *fsmBot }

func (b *slowBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	time.Sleep(time.Millisecond) // the disk
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

// NewLaggingReporter builds README's wiring whose GateReporter says "open"
// only when fsm's gate is open and the application has seen Start (or a
// completed update) return, until a Stop, Fail or CallEnded begins: it
// under-reports (says closed while the gate is already open), never
// over-reports. Frames are persisted under fsm's leases, as always.
func NewLaggingReporter(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &laggingBot{fsmBot: base}, nil
}

type laggingBot struct {
	*fsmBot
	seen atomic.Bool
}

func (b *laggingBot) Start(ctx context.Context) error {
	_, err := b.m.Start(ctx)
	if err == nil {
		b.seen.Store(true)
	}
	return err
}

func (b *laggingBot) OperationUpdate(ctx context.Context, op graph.Operation) error {
	err := b.m.OperationUpdate(ctx, op)
	if err == nil {
		b.seen.Store(true)
	}
	return err
}

func (b *laggingBot) Stop(ctx context.Context) error {
	b.seen.Store(false)
	return b.m.Stop(ctx)
}

func (b *laggingBot) Fail(ctx context.Context) error {
	b.seen.Store(false)
	return b.m.Fail(ctx)
}

func (b *laggingBot) CallEnded(ctx context.Context) error {
	b.seen.Store(false)
	return b.m.CallEnded(ctx)
}

func (b *laggingBot) GateOpen() bool { return b.seen.Load() && b.m.Gate().IsOpen() }

// NewSwappedStorage builds a correct bot that files each stream's frames
// under the next stream's storage (stream i on Sink stream (i+1) mod
// Streams), under stream i's own lease: a mislabelled recording, but every
// byte persisted inside the recording it was heard in.
func NewSwappedStorage(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &swappedBot{fsmBot: base}, nil
}

type swappedBot struct{ *fsmBot }

func (b *swappedBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, len(b.streams)); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.env.Sink.Write((stream+1)%len(b.streams), payload)
	return err
}

// NewNeverRecords builds a bot that never records: every Start is refused
// before Graph is asked, every frame dropped. It keeps the rule
// trivially; the suite cannot judge it, and says so (a vacuous run).
func NewNeverRecords(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &neverBot{fsmBot: base}, nil
}

type neverBot struct{ *fsmBot }

func (b *neverBot) Start(context.Context) error { return errRefused }

func (b *neverBot) Frame(context.Context, int, []byte) error { return errDropped }
