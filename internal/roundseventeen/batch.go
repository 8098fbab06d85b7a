package roundseventeen

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// batchEvery is how long the batcher collects frames before it writes
// them ("one storage call per 2 ms instead of one per frame").
const batchEvery = 2 * time.Millisecond

// afterFuncBatcher collects every frame as it arrives and writes the
// batch from a time.AfterFunc, under one lease the flush takes for the
// whole batch. See BatchLeaseForBatch.
type afterFuncBatcher struct {
	control
	mu      sync.Mutex
	pending [][]byte // per stream
	timer   *time.Timer
	armed   sync.WaitGroup // one per timer that has not finished its flush
	flushMu sync.Mutex     // one flush at a time: the batch Stream holds one lease
	batch   *fsm.Stream
}

func newAfterFuncBatcher(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &afterFuncBatcher{control: control{c}, pending: make([][]byte, env.Streams), batch: c.m.Gate().NewStream()}, nil
}

// Frame adds the frame to the batch, and arms the timer for a new batch.
func (b *afterFuncBatcher) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending[stream] = append(b.pending[stream], payload...)
	if b.timer == nil {
		b.armed.Add(1)
		b.timer = time.AfterFunc(batchEvery, func() { defer b.armed.Done(); b.flush() })
	}
	return nil
}

// flush writes what was collected under one lease, or drops it when the
// gate is closed.
func (b *afterFuncBatcher) flush() {
	b.mu.Lock()
	batch := b.pending
	b.pending = make([][]byte, len(batch))
	b.timer = nil
	b.mu.Unlock()
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	lease, err := b.batch.Acquire()
	if err != nil {
		return // not recording: the batch is dropped
	}
	defer lease.Release()
	for s, p := range batch {
		if len(p) > 0 {
			_, _ = b.c.sink.Write(s, p)
		}
	}
}

// Close writes the last batch now rather than at its timer.
func (b *afterFuncBatcher) Close(context.Context) error {
	b.mu.Lock()
	t := b.timer
	b.mu.Unlock()
	if t != nil && t.Stop() {
		b.armed.Done()
		b.flush()
	}
	b.armed.Wait()
	return nil
}

// jitterDepth is how many frames a jitter buffer holds back to put late
// packets in order.
const jitterDepth = 3

// held is a frame in a jitter buffer, by its sequence number.
type held struct {
	seq     int
	payload []byte
}

// jitterBuffered reorders each stream's frames by sequence number in a
// buffer of jitterDepth; when the buffer overflows, the oldest frame is
// written under the lease taken for the frame that just arrived, and the
// buffer is kept across the gate's changes. See JitterHoldsPreConsent.
type jitterBuffered struct {
	control
	mu   sync.Mutex
	seq  []int
	bufs [][]held
}

func newJitterBuffered(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &jitterBuffered{control: control{c}, seq: make([]int, env.Streams), bufs: make([][]held, env.Streams)}, nil
}

// Frame pushes the frame, and persists the oldest one held once the
// buffer is full, if the gate lets the new frame in.
func (b *jitterBuffered) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq[stream]++
	buf := append(b.bufs[stream], held{seq: b.seq[stream], payload: copyOf(payload)})
	sort.Slice(buf, func(i, j int) bool { return buf[i].seq < buf[j].seq })
	if len(buf) <= jitterDepth {
		b.bufs[stream] = buf
		return nil
	}
	out := buf[0]
	b.bufs[stream] = buf[1:]
	lease, err := b.c.streams[stream].Acquire()
	if err != nil {
		return err // the oldest frame is dropped
	}
	defer lease.Release()
	_, err = b.c.sink.Write(stream, out.payload)
	return err
}

// flushAt is how many frames the ring gathers before its flusher writes.
const flushAt = 8

// ringCapacity bounds the ring: frames beyond it are dropped.
const ringCapacity = 256

// ringFlusher admits each frame under a lease into a ring guarded by a
// sync.Cond; a flusher goroutine writes the ring out once it holds
// flushAt frames, or when the recording-ended hook asks it to, which
// returns without waiting for the flush. See RingFlushedAfterHook.
type ringFlusher struct {
	control
	mu       sync.Mutex
	cond     *sync.Cond
	ring     []job
	flushReq bool
	quit     bool
	done     chan struct{}
}

func newRingFlusher(env *properties.Env) (properties.Bot, error) {
	b := &ringFlusher{done: make(chan struct{})}
	b.cond = sync.NewCond(&b.mu)
	c, err := newCall(env, func(context.Context) error {
		b.mu.Lock()
		b.flushReq = true // "the flusher takes it from here"
		b.cond.Broadcast()
		b.mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	go b.flusher()
	return b, nil
}

// Frame admits the frame under a lease into the ring.
func (b *ringFlusher) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.quit || len(b.ring) >= ringCapacity {
		return errDropped
	}
	b.ring = append(b.ring, job{stream: stream, payload: copyOf(payload)})
	if len(b.ring) >= flushAt {
		b.cond.Signal()
	}
	return nil
}

// flusher writes the ring out, until Close.
func (b *ringFlusher) flusher() {
	defer close(b.done)
	b.mu.Lock()
	for {
		for len(b.ring) < flushAt && !b.flushReq && !b.quit {
			b.cond.Wait()
		}
		out, quit := b.ring, b.quit
		b.ring, b.flushReq = nil, false
		b.mu.Unlock()
		for _, j := range out {
			_, _ = b.c.sink.Write(j.stream, j.payload)
		}
		if quit {
			return
		}
		b.mu.Lock()
	}
}

// Close writes what the ring holds and stops the flusher.
func (b *ringFlusher) Close(context.Context) error {
	b.mu.Lock()
	b.quit = true
	b.cond.Broadcast()
	b.mu.Unlock()
	<-b.done
	return nil
}
