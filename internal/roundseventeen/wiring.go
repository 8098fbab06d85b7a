package roundseventeen

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Errors the bots return for frames they do not persist (the suite does
// not count them as failures).
var (
	errNoStream = errors.New("roundseventeen: no such stream")
	errDropped  = errors.New("roundseventeen: frame dropped (not recording, or the queue is full)")
	errClosed   = errors.New("roundseventeen: the call's writers were shut down; frame dropped")
)

// call is one call wired as README shows: its own fsm.Machine over
// env.Updater, one fsm.Stream per media stream, a recording-ended hook
// that flushes env.Sink, and the gate's openings and closings told to the
// suite. The bots around it change the frame path: how a frame gets from
// the media SDK's receive thread to storage.
type call struct {
	env     *properties.Env
	sink    *properties.Sink
	m       *fsm.Machine
	streams []*fsm.Stream
}

// newCall builds the call's machine. hook, when set, runs in the
// recording-ended hook before the sink is flushed (the team's own drain).
func newCall(env *properties.Env, hook func(context.Context) error) (*call, error) {
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(ctx context.Context, _ fsm.Trigger) error {
			if hook != nil {
				if err := hook(ctx); err != nil {
					return err
				}
			}
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			if e.Open {
				env.GateOpened()
			} else {
				env.GateClosed()
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("roundseventeen: call %s: %w", env.CallID, err)
	}
	c := &call{env: env, sink: env.Sink, m: m}
	for i := 0; i < env.Streams; i++ {
		c.streams = append(c.streams, m.Gate().NewStream())
	}
	return c, nil
}

// checkStream reports whether i names one of the call's streams.
func (c *call) checkStream(i int) error {
	if i < 0 || i >= len(c.streams) {
		return fmt.Errorf("%w: %d (the call has %d)", errNoStream, i, len(c.streams))
	}
	return nil
}

// admit checks that stream names one of the call's streams and takes
// that stream's lease: the start of every handler that admits a frame
// when it arrives.
func (c *call) admit(stream int) (fsm.Lease, error) {
	if err := c.checkStream(stream); err != nil {
		return fsm.Lease{}, err
	}
	return c.streams[stream].Acquire()
}

// control are the call's handlers for Graph's side, each on the call's
// machine: every team in this round got them right.
type control struct{ c *call }

// Start asks Graph to record the call.
func (k control) Start(ctx context.Context) error {
	_, err := k.c.m.Start(ctx)
	return err
}

// Stop ends the recording and reports notRecording.
func (k control) Stop(ctx context.Context) error { return k.c.m.Stop(ctx) }

// Fail ends the recording and reports failed.
func (k control) Fail(ctx context.Context) error { return k.c.m.Fail(ctx) }

// OperationUpdate feeds Graph's later outcome to the machine.
func (k control) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return k.c.m.OperationUpdate(ctx, op)
}

// CallEnded ends the machine.
func (k control) CallEnded(ctx context.Context) error { return k.c.m.CallEnded(ctx) }

// GateOpen reports the gate (properties.GateReporter).
func (k control) GateOpen() bool { return k.c.m.Gate().IsOpen() }

// job is one frame handed off by the frame handler.
type job struct {
	stream  int
	payload []byte
	// lease, when held, is the lease the handler took when the frame
	// arrived; from is the Stream it came from and pool the pool it goes
	// back to once the frame was written (see release).
	lease fsm.Lease
	from  *fsm.Stream
	pool  *leasePool
	// sink is the storage the job goes to (nil: the worker's call's).
	sink *properties.Sink
}

// release ends the job's lease, if it carries one, and returns its
// Stream to its pool.
func (j job) release() {
	j.lease.Release()
	if j.pool != nil && j.from != nil {
		j.pool.free <- j.from
	}
}

// leasePool hands out Streams so that a handler can take a lease per
// frame and let a worker hold it until the frame is written (a Stream
// holds one lease at a time). An empty pool is backpressure: the frame
// is dropped.
type leasePool struct{ free chan *fsm.Stream }

func newLeasePool(g *fsm.Gate, n int) *leasePool {
	p := &leasePool{free: make(chan *fsm.Stream, n)}
	for range n {
		p.free <- g.NewStream()
	}
	return p
}

// acquire takes a lease from a free Stream, or fails with the gate's
// error or errDropped when every Stream is in use.
func (p *leasePool) acquire() (fsm.Lease, *fsm.Stream, error) {
	select {
	case s := <-p.free:
		l, err := s.Acquire()
		if err != nil {
			p.free <- s
			return fsm.Lease{}, nil, err
		}
		return l, s, nil
	default:
		return fsm.Lease{}, nil, errDropped
	}
}

// job takes a lease for a frame of stream and wraps it with the frame
// (copied) in a job; the worker calls the job's release after the write.
func (p *leasePool) job(stream int, payload []byte) (job, error) {
	l, s, err := p.acquire()
	if err != nil {
		return job{}, err
	}
	return job{stream: stream, payload: copyOf(payload), lease: l, from: s, pool: p}, nil
}

// workers is a set of goroutines that end when quit closes.
type workers struct {
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newWorkers() *workers { return &workers{quit: make(chan struct{})} }

// run starts fn on a goroutine of the set.
func (w *workers) run(fn func()) { w.wg.Go(fn) }

// stop ends the set and waits for its goroutines.
func (w *workers) stop() {
	w.once.Do(func() { close(w.quit) })
	w.wg.Wait()
}

// send hands j to q unless the set was stopped.
func (w *workers) send(q chan<- job, j job) error {
	select {
	case <-w.quit:
		return errClosed
	default:
	}
	select {
	case q <- j:
		return nil
	case <-w.quit:
		return errClosed
	}
}

// copyOf is payload copied: the SDK reuses its buffer once the handler
// returned.
func copyOf(p []byte) []byte { return append([]byte(nil), p...) }
