package roundeighteen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// closedQueues: each recording gets its own queues and writers when the
// gate opens; the handler admits a frame under its stream's lease, queues
// it and releases the lease; the recording-ended hook closes the queues
// (no handler can queue once it did) and waits until the writers have
// written everything queued. The correct QueueClosedAndDrained.
type closedQueues struct {
	control
	mu  sync.Mutex
	rec *drainedRecording
	all sync.WaitGroup
}

// drainedRecording is one recording's queues and writers.
type drainedRecording struct {
	qs      []chan job
	closed  bool
	writers sync.WaitGroup
}

func newQueueClosedAndDrained(env *properties.Env) (properties.Bot, error) {
	b := &closedQueues{}
	c, err := newCall(env, func(context.Context, fsm.Trigger) error {
		b.endRecording()
		return nil
	}, func(open bool) {
		if open {
			b.startRecording()
		}
	})
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	return b, nil
}

// startRecording starts the recording's writers.
func (b *closedQueues) startRecording() {
	rec := &drainedRecording{}
	for range b.c.streams {
		q := make(chan job, queueDepth)
		rec.qs = append(rec.qs, q)
		rec.writers.Add(1)
		b.all.Add(1)
		go func() {
			defer b.all.Done()
			defer rec.writers.Done()
			for j := range q {
				_, _ = b.c.sink.Write(j.stream, j.payload)
			}
		}()
	}
	b.mu.Lock()
	old := b.rec
	b.rec = rec
	b.mu.Unlock()
	if old != nil {
		old.close()
	}
}

// close closes the recording's queues once (the caller holds no lock the
// writers need).
func (r *drainedRecording) close() {
	if r.closed {
		return
	}
	r.closed = true
	for _, q := range r.qs {
		close(q)
	}
}

// endRecording closes the queues and waits for the writers to drain them.
func (b *closedQueues) endRecording() {
	b.mu.Lock()
	rec := b.rec
	b.rec = nil
	if rec != nil {
		rec.close()
	}
	b.mu.Unlock()
	if rec != nil {
		rec.writers.Wait()
	}
}

// Frame admits the frame under a lease, queues it on the open recording
// and releases the lease.
func (b *closedQueues) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rec == nil || b.rec.closed {
		return errClosed
	}
	select {
	case b.rec.qs[stream] <- job{stream: stream, payload: copyOf(payload)}:
		return nil
	default:
		return errFull
	}
}

// Close ends the last recording's writers, if any, and waits for all.
func (b *closedQueues) Close(context.Context) error {
	b.endRecording()
	b.all.Wait()
	return nil
}
