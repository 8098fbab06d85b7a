package roundseventeen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/properties"
)

// leaseQueues is the correct hand-off: the handler takes a lease when the
// frame arrives and queues it with the frame; the stream's writer
// releases it once the frame is written, so Stop's drain waits for every
// frame queued before the gate closed. dropWhenFull picks the queue's
// overflow: wait for room, or drop the frame (and its lease) at once.
type leaseQueues struct {
	control
	w            *workers
	pools        []*leasePool
	qs           []chan job
	dropWhenFull bool
}

func newLeaseQueues(env *properties.Env, depth int, dropWhenFull bool) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	b := &leaseQueues{control: control{c}, w: newWorkers(), dropWhenFull: dropWhenFull}
	for range c.streams {
		b.pools = append(b.pools, newLeasePool(c.m.Gate(), leasesPerStream))
		q := make(chan job, depth)
		b.qs = append(b.qs, q)
		write := func(j job) {
			defer j.release()
			_, _ = c.sink.Write(j.stream, j.payload)
		}
		b.w.run(func() {
			for {
				select {
				case j := <-q:
					write(j)
				case <-b.w.quit:
					for {
						select {
						case j := <-q:
							write(j)
						default:
							return
						}
					}
				}
			}
		})
	}
	return b, nil
}

// newLeaseTravelsWithFrame waits for room in the stream's queue.
func newLeaseTravelsWithFrame(env *properties.Env) (properties.Bot, error) {
	return newLeaseQueues(env, leasesPerStream, false)
}

// newDropWhenFull drops a frame that finds its queue of two full.
func newDropWhenFull(env *properties.Env) (properties.Bot, error) {
	return newLeaseQueues(env, 2, true)
}

// Frame takes the lease now and hands it to the writer with the frame.
func (b *leaseQueues) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	j, err := b.pools[stream].job(stream, payload)
	if err != nil {
		return err
	}
	if b.dropWhenFull {
		select {
		case b.qs[stream] <- j:
			return nil
		default:
			j.release()
			return errDropped
		}
	}
	if err := b.w.send(b.qs[stream], j); err != nil {
		j.release()
		return err
	}
	return nil
}

// Close stops the writers once they wrote what is queued.
func (b *leaseQueues) Close(context.Context) error { b.w.stop(); return nil }

// hookWaitsForQueue admits each frame under a lease and counts it in a
// WaitGroup before the lease is released; the writer writes without a
// lease and marks it done; the recording-ended hook waits for the count,
// so every admitted frame is written before notRecording.
type hookWaitsForQueue struct {
	*streamQueues
	pending sync.WaitGroup
}

func newHookWaitsForQueue(env *properties.Env) (properties.Bot, error) {
	b := &hookWaitsForQueue{}
	c, err := newCall(env, func(context.Context) error {
		b.pending.Wait() // every frame admitted before the gate closed
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.streamQueues = newStreamQueues(c, func(j job) {
		defer b.pending.Done()
		_, _ = c.sink.Write(j.stream, j.payload)
	})
	return b, nil
}

// Frame admits the frame, counts it, and queues it.
func (b *hookWaitsForQueue) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.pending.Add(1) // under the lease: the hook cannot be waiting yet
	if err := b.enqueue(stream, payload); err != nil {
		b.pending.Done()
		return err
	}
	return nil
}

// callPoolWorkers is how many writers each call's pool runs.
const callPoolWorkers = 3

// callPoolProcess keeps a worker pool per call, keyed by env.CallID: a
// handler looks its pool up by its own call's ID, takes its lease, and
// queues the job with the lease and its call's Sink; CallEnded ends the
// call's pool.
type callPoolProcess struct {
	mu    sync.Mutex
	pools map[string]*callPool
}

// callPool is one call's writers and the Streams its leases come from.
type callPool struct {
	leases *leasePool
	jobs   chan job
	w      *workers
}

func newCallPoolProcess() *callPoolProcess {
	return &callPoolProcess{pools: make(map[string]*callPool)}
}

// newBot is the factory: the call's pool is registered under its ID.
func (p *callPoolProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	cp := &callPool{leases: newLeasePool(c.m.Gate(), leasesPerStream), jobs: make(chan job, leasesPerStream), w: newWorkers()}
	for range callPoolWorkers {
		cp.w.run(func() {
			write := func(j job) {
				defer j.release()
				_, _ = j.sink.Write(j.stream, j.payload)
			}
			for {
				select {
				case j := <-cp.jobs:
					write(j)
				case <-cp.w.quit:
					for {
						select {
						case j := <-cp.jobs:
							write(j)
						default:
							return
						}
					}
				}
			}
		})
	}
	p.mu.Lock()
	p.pools[env.CallID] = cp
	p.mu.Unlock()
	return &callPoolBot{control: control{c}, p: p, id: env.CallID}, nil
}

type callPoolBot struct {
	control
	p  *callPoolProcess
	id string
}

// pool looks the call's pool up by its ID.
func (b *callPoolBot) pool() *callPool {
	b.p.mu.Lock()
	defer b.p.mu.Unlock()
	return b.p.pools[b.id]
}

// Frame takes the call's lease and queues the frame on the call's pool.
func (b *callPoolBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	cp := b.pool()
	if cp == nil {
		return errClosed
	}
	j, err := cp.leases.job(stream, payload)
	if err != nil {
		return err
	}
	j.sink = b.c.sink
	if err := cp.w.send(cp.jobs, j); err != nil {
		j.release()
		return err
	}
	return nil
}

// end removes and stops the call's pool.
func (b *callPoolBot) end() {
	b.p.mu.Lock()
	cp := b.p.pools[b.id]
	delete(b.p.pools, b.id)
	b.p.mu.Unlock()
	if cp != nil {
		cp.w.stop()
	}
}

// CallEnded ends the call, then its pool.
func (b *callPoolBot) CallEnded(ctx context.Context) error {
	err := b.c.m.CallEnded(ctx)
	b.end()
	return err
}

// Close ends the call's pool.
func (b *callPoolBot) Close(context.Context) error { b.end(); return nil }

// goroutineLeaseFirst is the goroutine per frame done right: the handler
// registers a Stream and takes its lease, then hands both to the
// goroutine, which writes, releases and closes the Stream.
type goroutineLeaseFirst struct {
	control
	wg sync.WaitGroup
}

func newGoroutineLeaseFirst(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &goroutineLeaseFirst{control: control{c}}, nil
}

// Frame takes the lease, then starts the write.
func (b *goroutineLeaseFirst) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	s := b.c.m.Gate().NewStream()
	lease, err := s.Acquire()
	if err != nil {
		_ = s.Close()
		return err
	}
	p := copyOf(payload)
	b.wg.Go(func() {
		defer func() { _ = s.Close() }()
		defer lease.Release()
		_, _ = b.c.sink.Write(stream, p)
	})
	return nil
}

// Close waits for the writes.
func (b *goroutineLeaseFirst) Close(context.Context) error { b.wg.Wait(); return nil }
