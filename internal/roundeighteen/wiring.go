package roundeighteen

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
	errNoStream = errors.New("roundeighteen: no such stream")
	errClosed   = errors.New("roundeighteen: the call's writers were shut down; frame dropped")
	errFull     = errors.New("roundeighteen: the stream's queue is full; frame dropped")
)

// queueDepth is how many frames a stream's queue holds (a bit more than a
// second of 20 ms frames).
const queueDepth = 64

// endedHook is a team's own part of the recording-ended hook, run before
// the sink is flushed; trigger says why the recording ended.
type endedHook func(ctx context.Context, trigger fsm.Trigger) error

// call is one call wired as README shows: its own fsm.Machine over
// env.Updater, one fsm.Stream per media stream, a recording-ended hook
// that flushes env.Sink, and the gate's openings and closings told to the
// suite. The bots around it change what happens between a frame's
// admission and its write, and what the Stop side waits for.
type call struct {
	env     *properties.Env
	sink    *properties.Sink
	m       *fsm.Machine
	streams []*fsm.Stream
	// onGate, when set, is told each time the gate opens or closes (from
	// fsm's observer, inside the transition).
	onGate func(open bool)
}

// newCall builds the call's machine. hook, when set, runs in the
// recording-ended hook before the sink is flushed (the team's own
// drain); onGate, when set, hears the gate open and close.
func newCall(env *properties.Env, hook endedHook, onGate func(open bool)) (*call, error) {
	c := &call{env: env, sink: env.Sink, onGate: onGate}
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(ctx context.Context, t fsm.Trigger) error {
			if hook != nil {
				if err := hook(ctx, t); err != nil {
					return err
				}
			}
			return env.Sink.Flush()
		}),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			if c.onGate != nil {
				c.onGate(e.Open)
			}
			if e.Open {
				env.GateOpened()
			} else {
				env.GateClosed()
			}
		}))
	if err != nil {
		return nil, fmt.Errorf("roundeighteen: call %s: %w", env.CallID, err)
	}
	c.m = m
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
// that stream's lease.
func (c *call) admit(stream int) (fsm.Lease, error) {
	if err := c.checkStream(stream); err != nil {
		return fsm.Lease{}, err
	}
	return c.streams[stream].Acquire()
}

// control are the call's handlers for Graph's side, each on the call's
// machine. Bots whose mistake is in one of them override it.
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

// job is one frame handed to a stream's writer. lease, when held, is the
// lease the handler took when the frame arrived (from a Stream of pool),
// released once the frame was written.
type job struct {
	stream  int
	payload []byte
	lease   fsm.Lease
	from    *fsm.Stream
	pool    *leasePool
	// counted, when set, is the WaitGroup the frame was counted on
	// (HookWaitsOnSwappedGroup).
	counted *sync.WaitGroup
	// gen is the recording generation the frame was admitted in
	// (GenerationCheckThenWrite).
	gen uint64
}

// release ends the job's lease, if it carries one, and returns its Stream
// to its pool.
func (j job) release() {
	j.lease.Release()
	if j.pool != nil && j.from != nil {
		j.pool.free <- j.from
	}
}

// leasePool hands out Streams so that a handler can take a lease per
// frame and let the writer hold it until the frame is written (a Stream
// holds one lease at a time). An empty pool drops the frame.
type leasePool struct{ free chan *fsm.Stream }

func newLeasePool(g *fsm.Gate, n int) *leasePool {
	p := &leasePool{free: make(chan *fsm.Stream, n)}
	for range n {
		p.free <- g.NewStream()
	}
	return p
}

// job takes a lease for a frame of stream and wraps it with a copy of the
// frame.
func (p *leasePool) job(stream int, payload []byte) (job, error) {
	select {
	case s := <-p.free:
		l, err := s.Acquire()
		if err != nil {
			p.free <- s
			return job{}, err
		}
		return job{stream: stream, payload: copyOf(payload), lease: l, from: s, pool: p}, nil
	default:
		return job{}, errFull
	}
}

// streamWriters is the frame path of every bot in this round: the handler
// puts the frame on its stream's buffered channel and returns (the media
// SDK's receive thread must not block); one writer goroutine per stream
// takes frames off and calls write. pending counts the frames queued or
// in a writer's hands, for the bots whose hook waits for them.
type streamWriters struct {
	// doneAtDequeue marks a frame done in pending when the writer takes
	// it off its queue, before write (DoneBeforeWrite).
	doneAtDequeue bool
	qs            []chan job
	quit          chan struct{}
	once          sync.Once
	wg            sync.WaitGroup
	pending       inFlight
}

// newStreamWriters starts n writers, each calling write for the frames
// it takes off its queue (and for those still queued when stopped), then
// marking them done in pending.
func newStreamWriters(n int, write func(job)) *streamWriters {
	return newStreamWritersDone(n, write, false)
}

// newStreamWritersDone is newStreamWriters; doneAtDequeue marks each frame
// done before it is written.
func newStreamWritersDone(n int, write func(job), doneAtDequeue bool) *streamWriters {
	w := &streamWriters{quit: make(chan struct{}), doneAtDequeue: doneAtDequeue, pending: newInFlight()}
	for range n {
		q := make(chan job, queueDepth)
		w.qs = append(w.qs, q)
		w.wg.Go(func() {
			do := func(j job) {
				if w.doneAtDequeue {
					w.pending.done() // "taken off the queue: handled"
					write(j)
					return
				}
				defer w.pending.done()
				write(j)
			}
			for {
				select {
				case j := <-q:
					do(j)
				case <-w.quit:
					for {
						select {
						case j := <-q:
							do(j)
						default:
							return
						}
					}
				}
			}
		})
	}
	return w
}

// send counts j in pending and queues it; a full queue or stopped
// writers drop it.
func (w *streamWriters) send(j job) error {
	select {
	case <-w.quit:
		return errClosed
	default:
	}
	w.pending.add()
	select {
	case w.qs[j.stream] <- j:
		return nil
	default:
		w.pending.done()
		return errFull
	}
}

// Close stops the writers once they wrote what is queued
// (properties.Closer).
func (w *streamWriters) Close(context.Context) error {
	w.once.Do(func() { close(w.quit) })
	w.wg.Wait()
	return nil
}

// copyOf is payload copied: the SDK reuses its buffer once the handler
// returned.
func copyOf(p []byte) []byte { return append([]byte(nil), p...) }

// inFlight counts frames admitted and not yet written, and says when the
// count is zero. It does what a sync.WaitGroup does for the hooks here,
// and may be waited on by a goroutine that outlives its hook (a hook that
// stops waiting after a timeout) while the next recording counts again,
// which a WaitGroup forbids ("Add called concurrently with Wait").
type inFlight struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n is zero
}

func newInFlight() inFlight {
	idle := make(chan struct{})
	close(idle)
	return inFlight{idle: idle}
}

// add counts one frame.
func (f *inFlight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.idle = make(chan struct{})
	}
	f.n++
}

// done marks one frame written (or dropped).
func (f *inFlight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.idle)
	}
}

// drained returns a channel closed once every frame counted so far is
// done.
func (f *inFlight) drained() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.idle
}

// wait returns once every frame counted so far is done.
func (f *inFlight) wait() { <-f.drained() }
