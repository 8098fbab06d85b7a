package roundseventeen

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// queueDepth is how many frames a stream's queue holds (a bit more than a
// second of 20 ms frames).
const queueDepth = 64

// streamQueues is the frame path most teams write first: the handler
// puts the frame on its stream's buffered channel and returns; one writer
// goroutine per stream takes frames off and persists them. What each bot
// does at either end (take a lease, check the gate, nothing) is where
// they differ.
type streamQueues struct {
	control
	w  *workers
	qs []chan job
}

// newStreamQueues starts one writer per stream of c, each calling write
// for the frames it takes off its queue (and for those still queued when
// the writers are stopped).
func newStreamQueues(c *call, write func(job)) *streamQueues {
	b := &streamQueues{control: control{c}, w: newWorkers()}
	for range c.streams {
		q := make(chan job, queueDepth)
		b.qs = append(b.qs, q)
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
	return b
}

// enqueue hands frame payload of stream to its writer.
func (b *streamQueues) enqueue(stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	return b.w.send(b.qs[stream], job{stream: stream, payload: copyOf(payload)})
}

// queued reports how many frames wait in the queues.
func (b *streamQueues) queued() int {
	n := 0
	for _, q := range b.qs {
		n += len(q)
	}
	return n
}

// Close stops the writers once they wrote what is queued.
func (b *streamQueues) Close(context.Context) error { b.w.stop(); return nil }

// leaseAtDequeue: the writer takes its stream's lease when it dequeues a
// frame. See the row ChannelLeaseAtDequeue.
type leaseAtDequeue struct{ *streamQueues }

func newLeaseAtDequeue(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &leaseAtDequeue{newStreamQueues(c, func(j job) {
		lease, err := c.streams[j.stream].Acquire()
		if err != nil {
			return // "not recording": dropped
		}
		defer lease.Release()
		_, _ = c.sink.Write(j.stream, j.payload)
	})}, nil
}

// Frame queues the frame and returns at once.
func (b *leaseAtDequeue) Frame(_ context.Context, stream int, payload []byte) error {
	return b.enqueue(stream, payload)
}

// gateCheckAtDequeue: the writer asks the gate whether it is open when it
// dequeues a frame, and writes without a lease. See WorkerChecksGateOpen.
type gateCheckAtDequeue struct{ *streamQueues }

func newGateCheckAtDequeue(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &gateCheckAtDequeue{newStreamQueues(c, func(j job) {
		if !c.m.Gate().IsOpen() {
			return
		}
		_, _ = c.sink.Write(j.stream, j.payload)
	})}, nil
}

// Frame queues the frame and returns at once.
func (b *gateCheckAtDequeue) Frame(_ context.Context, stream int, payload []byte) error {
	return b.enqueue(stream, payload)
}

// recheck is what an admitThenQueue writer asks before it writes a
// frame admitted earlier.
type recheck int

const (
	recheckNothing recheck = iota // write what was admitted
	recheckGate                   // write only if gate.IsOpen()
	recheckState                  // write only if the machine's state allows persisting
)

// admitThenQueue: the handler takes the lease when the frame arrives (so
// only frames of a confirmed recording are queued), releases it once the
// frame is queued, and the writer writes without one, after the check its
// team chose. See LeaseReleasedBeforeWrite, HookDrainsByQueueLength,
// AdmitThenRecheckGate, AdmitThenRecheckState.
type admitThenQueue struct{ *streamQueues }

func newAdmitThenQueue(env *properties.Env, hookDrains bool, check recheck) (properties.Bot, error) {
	b := &admitThenQueue{}
	var hook func(context.Context) error
	if hookDrains {
		// "Wait until the queues are empty": a frame the writer has
		// taken off its queue and not yet written counts as written.
		hook = func(ctx context.Context) error {
			for b.queued() > 0 && ctx.Err() == nil {
				time.Sleep(20 * time.Microsecond)
			}
			return nil
		}
	}
	c, err := newCall(env, hook)
	if err != nil {
		return nil, err
	}
	b.streamQueues = newStreamQueues(c, func(j job) {
		switch {
		case check == recheckGate && !c.m.Gate().IsOpen():
			return
		case check == recheckState && !c.m.State().PersistAllowed():
			return
		}
		_, _ = c.sink.Write(j.stream, j.payload)
	})
	return b, nil
}

// Frame admits the frame under a lease, queues it, and releases the lease.
func (b *admitThenQueue) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release() // "queued is as good as written"
	return b.enqueue(stream, payload)
}

// The admitThenQueue rows' factories.
func newLeaseReleasedBeforeWrite(env *properties.Env) (properties.Bot, error) {
	return newAdmitThenQueue(env, false, recheckNothing)
}

func newHookDrainsByQueueLength(env *properties.Env) (properties.Bot, error) {
	return newAdmitThenQueue(env, true, recheckNothing)
}

func newAdmitThenRecheckGate(env *properties.Env) (properties.Bot, error) {
	return newAdmitThenQueue(env, false, recheckGate)
}

func newAdmitThenRecheckState(env *properties.Env) (properties.Bot, error) {
	return newAdmitThenQueue(env, false, recheckState)
}

// poolWorkers is how many writers a call's worker pool runs.
const poolWorkers = 4

// poolLeaseAtDequeue: a pool of writers per call on one shared queue,
// each with a Stream of its own, taking its lease when it dequeues. See
// PoolLeaseAtDequeue.
type poolLeaseAtDequeue struct {
	control
	w    *workers
	jobs chan job
}

func newPoolLeaseAtDequeue(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	b := &poolLeaseAtDequeue{control: control{c}, w: newWorkers(), jobs: make(chan job, queueDepth)}
	write := func(own *fsm.Stream, j job) {
		lease, err := own.Acquire()
		if err != nil {
			return
		}
		defer lease.Release()
		_, _ = c.sink.Write(j.stream, j.payload)
	}
	for range poolWorkers {
		own := c.m.Gate().NewStream()
		b.w.run(func() {
			for {
				select {
				case j := <-b.jobs:
					write(own, j)
				case <-b.w.quit:
					return
				}
			}
		})
	}
	return b, nil
}

// Frame queues the frame for the pool and returns at once.
func (b *poolLeaseAtDequeue) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	return b.w.send(b.jobs, job{stream: stream, payload: copyOf(payload)})
}

// Close stops the pool.
func (b *poolLeaseAtDequeue) Close(context.Context) error { b.w.stop(); return nil }

// groupLimit is the limit of the bot's task group (errgroup.SetLimit).
const groupLimit = 8

// limitedGroup is what golang.org/x/sync/errgroup with SetLimit gives a
// team (the module is not a dependency here): Go runs f on a goroutine
// of its own once fewer than the limit run, and Wait waits for them all.
type limitedGroup struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

// Go runs f on a goroutine of the group, waiting for a slot first.
func (g *limitedGroup) Go(f func()) {
	g.sem <- struct{}{}
	g.wg.Go(func() {
		defer func() { <-g.sem }()
		f()
	})
}

// groupLeaseInTask: each frame is a task of a limited group, which
// registers a Stream and takes its lease when it runs. See
// GroupTaskLeaseWhenRun.
type groupLeaseInTask struct {
	control
	g limitedGroup
}

func newGroupLeaseInTask(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	return &groupLeaseInTask{control: control{c}, g: limitedGroup{sem: make(chan struct{}, groupLimit)}}, nil
}

// Frame starts the frame's task and returns.
func (b *groupLeaseInTask) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	p := copyOf(payload)
	b.g.Go(func() {
		s := b.c.m.Gate().NewStream()
		defer func() { _ = s.Close() }()
		lease, err := s.Acquire()
		if err != nil {
			return
		}
		defer lease.Release()
		_, _ = b.c.sink.Write(stream, p)
	})
	return nil
}

// Close waits for the tasks (errgroup's Wait).
func (b *groupLeaseInTask) Close(context.Context) error { b.g.wg.Wait(); return nil }
