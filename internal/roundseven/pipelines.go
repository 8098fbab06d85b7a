package roundseven

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// NewWorkerPoolAfterRelease builds a bot whose frame handler takes the
// stream's lease, hands a copy of the frame to a pool of three storage
// workers over a buffered channel, and releases the lease: "the lease
// proves the frame was captured inside the recording; the write itself
// may come later". Stop waits for the leases, which were all released at
// hand-off, so notRecording can go out while workers still hold frames;
// they are persisted after the report (and after the call ended, by the
// pool's shutdown in Close).
//
// Why a team does it: the media thread must never block on storage, and
// round five's WorkerPoolLeases (lease handed to the worker) was "too
// complicated" for the reviewer.
func NewWorkerPoolAfterRelease(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	b := &poolBot{fsmBot: base, jobs: make(chan heldFrame, 64), locks: make([]sync.Mutex, env.Streams)}
	for i := 0; i < 3; i++ {
		b.wg.Add(1)
		go b.work()
	}
	return b, nil
}

type poolBot struct {
	*fsmBot
	locks  []sync.Mutex // a Stream serves one writer at a time
	mu     sync.Mutex
	closed bool
	jobs   chan heldFrame
	wg     sync.WaitGroup
}

func (b *poolBot) work() {
	defer b.wg.Done()
	for f := range b.jobs {
		_, _ = b.store.Write(f.stream, f.p)
	}
}

func (b *poolBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release() // released at hand-off: the bug
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errStopped
	}
	select {
	case b.jobs <- heldFrame{stream, append([]byte(nil), payload...)}:
		return nil
	default:
		return errDropped // the pool is behind: shed load
	}
}

// Close drains the pool.
func (b *poolBot) Close(context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.jobs)
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}

// NewRingDrainKeepsRefused builds a bot that admits frames under a lease
// into a small ring per stream (eight frames, the oldest overwritten) and
// persists the rings from a drainer that runs every 20 ms and takes a
// lease of its own for each drain. A drain the gate refuses keeps the
// ring for the next tick ("storage hiccup or a Stop: try again, never
// lose admitted audio"), and the hook flushes storage, not the rings. So
// the frames admitted at the end of one recording wait in the ring until
// the next recording opens, and are persisted in it: media from an
// earlier interval.
func NewRingDrainKeepsRefused(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, nil)
	if err != nil {
		return nil, err
	}
	b := &ringBot{fsmBot: base, rings: make([][][]byte, env.Streams), drain: base.m.Gate().NewStream(), done: make(chan struct{})}
	b.wg.Add(1)
	go b.drainer(20 * time.Millisecond)
	return b, nil
}

type ringBot struct {
	*fsmBot
	mu    sync.Mutex
	rings [][][]byte
	drain *fsm.Stream // the drainer's own
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

const ringSize = 8

func (b *ringBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := append(b.rings[stream], append([]byte(nil), payload...))
	if len(r) > ringSize {
		r = r[1:]
	}
	b.rings[stream] = r
	return nil
}

func (b *ringBot) drainer(every time.Duration) {
	defer b.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case <-t.C:
			b.drainOnce()
		}
	}
}

// drainOnce persists every ring under one lease of the drainer's; a
// refused lease keeps them for the next tick.
func (b *ringBot) drainOnce() {
	lease, err := b.drain.Acquire()
	if err != nil {
		return // keep the rings: the next tick tries again
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, r := range b.rings {
		for _, p := range r {
			_, _ = b.store.Write(i, p)
		}
		b.rings[i] = nil
	}
}

// Close stops the drainer after one last drain.
func (b *ringBot) Close(context.Context) error {
	b.once.Do(func() { close(b.done) })
	b.wg.Wait()
	b.drainOnce()
	return nil
}

// NewBatchFlushAfterRelease builds a bot that batches each stream's
// frames (admitted under the stream's lease) and writes a batch once it
// holds three frames; the write is made after the lease is released ("do
// not hold the gate across a slow storage call"). The hook writes what is
// left of each batch and flushes, as it should. A Stop that comes while a
// full batch is being written does not wait for it: the batch can land
// after notRecording.
func NewBatchFlushAfterRelease(env *properties.Env) (properties.Bot, error) {
	b := &batchBot{batches: make([][]byte, env.Streams), counts: make([]int, env.Streams), locks: make([]sync.Mutex, env.Streams)}
	base, err := newEnvBot(env, func(context.Context, fsm.Trigger) error {
		b.writeRest()
		return env.Sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type batchBot struct {
	*fsmBot
	locks   []sync.Mutex // per stream: one writer of its Stream and batch
	mu      sync.Mutex   // the batches
	batches [][]byte
	counts  []int
}

const batchFrames = 3

func (b *batchBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.batches[stream] = append(b.batches[stream], payload...)
	b.counts[stream]++
	var full []byte
	if b.counts[stream] >= batchFrames {
		full, b.batches[stream], b.counts[stream] = b.batches[stream], nil, 0
	}
	b.mu.Unlock()
	lease.Release() // the gate is not held across storage: the bug
	if full != nil {
		_, err = b.store.Write(stream, full)
	}
	return err
}

// writeRest writes each stream's partial batch (the hook).
func (b *batchBot) writeRest() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, p := range b.batches {
		if len(p) > 0 {
			_, _ = b.store.Write(i, p)
		}
		b.batches[i], b.counts[i] = nil, 0
	}
}

// NewPipelineGeneration builds a correct pipeline: the frame handler
// checks the gate with a lease of its own, notes the recording's
// generation while it holds it, releases, and queues the frame; a
// consumer goroutine per stream takes a lease of its own for each frame
// and writes it only if the generation is still the frame's. The
// recording-ended hook (which runs after every lease was released, before
// the report) bumps the generation, so a frame captured in one recording
// is never written in another, and a consumer's write is under a lease,
// so Stop waits for it. Queued frames of a recording that ended are
// dropped.
func NewPipelineGeneration(env *properties.Env) (properties.Bot, error) {
	b := &generationBot{}
	base, err := newEnvBot(env, func(context.Context, fsm.Trigger) error {
		b.gen.Add(1)
		return env.Sink.Flush()
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	b.locks = make([]sync.Mutex, env.Streams)
	for i := 0; i < env.Streams; i++ {
		q := make(chan genFrame, 64)
		b.queues = append(b.queues, q)
		b.wg.Add(1)
		go b.consume(i, base.m.Gate().NewStream(), q)
	}
	return b, nil
}

type generationBot struct {
	*fsmBot
	gen    atomic.Uint64
	locks  []sync.Mutex
	queues []chan genFrame
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

type genFrame struct {
	gen uint64
	p   []byte
}

func (b *generationBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	g := b.gen.Load() // stable while a lease is held: the hook runs after the drain
	lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errStopped
	}
	select {
	case b.queues[stream] <- genFrame{g, append([]byte(nil), payload...)}:
		return nil
	default:
		return errDropped
	}
}

func (b *generationBot) consume(stream int, s *fsm.Stream, q <-chan genFrame) {
	defer b.wg.Done()
	for f := range q {
		lease, err := s.Acquire()
		if err != nil {
			continue // the recording ended: drop
		}
		if b.gen.Load() == f.gen {
			_, _ = b.store.Write(stream, f.p)
		}
		lease.Release()
	}
}

// Close stops the consumers once their queues are empty.
func (b *generationBot) Close(context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, q := range b.queues {
			close(q)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}
