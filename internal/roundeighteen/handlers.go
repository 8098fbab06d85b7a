package roundeighteen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// recordingFlag: the handler admits the frame under a lease and queues
// it; the writer writes only while the bot's own recording flag is set.
// The gate's opening sets the flag; Stop, Fail and CallEnded clear it
// before they call the machine ("once the flag is down, nothing more is
// written"), and the hook does not wait. See RecordingFlagCheckThenWrite.
type recordingFlag struct {
	control
	*streamWriters
	recording atomic.Bool
	// generations, when set, makes the writer drop a frame admitted in
	// an earlier recording too: gen counts the times the flag went down,
	// and each job carries the gen it was admitted in. See
	// GenerationCheckThenWrite.
	generations bool
	gen         atomic.Uint64
}

func newRecordingFlag(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, false)
}

func newGenerationCheckThenWrite(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, true)
}

func newFlagBot(env *properties.Env, generations bool) (properties.Bot, error) {
	b := &recordingFlag{generations: generations}
	c, err := newCall(env, nil, func(open bool) {
		if open {
			b.recording.Store(true)
		}
	})
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	b.streamWriters = newStreamWriters(len(c.streams), func(j job) {
		if !b.recording.Load() || (b.generations && j.gen != b.gen.Load()) {
			return // "not recording any more": dropped
		}
		_, _ = c.sink.Write(j.stream, j.payload)
	})
	return b, nil
}

// Frame admits, queues and releases. The generation is read before the
// frame is admitted: one admitted after a Stop lowered the flag (the gate
// still open) carries the generation that ended, and is dropped.
func (b *recordingFlag) Frame(_ context.Context, stream int, payload []byte) error {
	gen := b.gen.Load()
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	return b.send(job{stream: stream, payload: copyOf(payload), gen: gen})
}

// lower lowers the flag and starts a new generation.
func (b *recordingFlag) lower() {
	b.recording.Store(false)
	b.gen.Add(1)
}

// Stop lowers the flag, then stops.
func (b *recordingFlag) Stop(ctx context.Context) error {
	b.lower()
	return b.c.m.Stop(ctx)
}

// Fail lowers the flag, then fails.
func (b *recordingFlag) Fail(ctx context.Context) error {
	b.lower()
	return b.c.m.Fail(ctx)
}

// CallEnded lowers the flag, then ends the machine.
func (b *recordingFlag) CallEnded(ctx context.Context) error {
	b.lower()
	return b.c.m.CallEnded(ctx)
}

// leaseTravels: the handler takes a lease per frame from a pool of
// Streams and queues it with the frame; the stream's writer releases it
// once the frame is written, so the machine's drain waits for every
// queued frame (round seventeen's LeaseTravelsWithFrame).
// StopDeadlineThenReport and the correct StopDeadlineRetried change its
// Stop.
type leaseTravels struct {
	control
	*streamWriters
	pools []*leasePool
}

func newLeaseTravels(env *properties.Env) (*leaseTravels, error) {
	c, err := newCall(env, nil, nil)
	if err != nil {
		return nil, err
	}
	b := &leaseTravels{control: control{c}}
	for range c.streams {
		b.pools = append(b.pools, newLeasePool(c.m.Gate(), queueDepth))
	}
	b.streamWriters = newStreamWriters(len(c.streams), func(j job) {
		defer j.release()
		_, _ = c.sink.Write(j.stream, j.payload)
	})
	return b, nil
}

// Frame takes the frame's own lease and queues it with the frame.
func (b *leaseTravels) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	j, err := b.pools[stream].job(stream, payload)
	if err != nil {
		return err
	}
	if err := b.send(j); err != nil {
		j.release()
		return err
	}
	return nil
}

// stopBudget is how long the Stop handlers of StopDeadlineThenReport and
// StopDeadlineRetried give the machine ("a Stop is a few milliseconds").
const stopBudget = 3 * time.Millisecond

// stopDeadlineThenReport: leaseTravels whose Stop and Fail give
// the machine stopBudget and, when it runs out, send the report
// themselves. See StopDeadlineThenReport.
type stopDeadlineThenReport struct{ *leaseTravels }

func newStopDeadlineThenReport(env *properties.Env) (properties.Bot, error) {
	b, err := newLeaseTravels(env)
	if err != nil {
		return nil, err
	}
	return stopDeadlineThenReport{b}, nil
}

// end runs fire with stopBudget; when that runs out, the bot tells Graph
// itself ("Graph must hear it within the webhook's time").
func (b stopDeadlineThenReport) end(ctx context.Context, fire func(context.Context) error, status graph.Status) error {
	short, cancel := context.WithTimeout(ctx, stopBudget)
	defer cancel()
	err := fire(short)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	_, err = b.c.env.Updater.UpdateRecordingStatus(ctx, b.c.env.CallID, status, "stop-"+uuid.NewString())
	return err
}

// Stop stops within the budget, or reports notRecording itself.
func (b stopDeadlineThenReport) Stop(ctx context.Context) error {
	return b.end(ctx, b.c.m.Stop, graph.StatusNotRecording)
}

// Fail fails within the budget, or reports failed itself.
func (b stopDeadlineThenReport) Fail(ctx context.Context) error {
	return b.end(ctx, b.c.m.Fail, graph.StatusFailed)
}

// stopDeadlineRetried: the same budget, and when it runs out Stop asks
// the machine again with the handler's whole context (the machine keeps
// the gate closed and has reported nothing). The correct
// StopDeadlineRetried.
type stopDeadlineRetried struct{ *leaseTravels }

func newStopDeadlineRetried(env *properties.Env) (properties.Bot, error) {
	b, err := newLeaseTravels(env)
	if err != nil {
		return nil, err
	}
	return stopDeadlineRetried{b}, nil
}

func (b stopDeadlineRetried) end(ctx context.Context, fire func(context.Context) error) error {
	short, cancel := context.WithTimeout(ctx, stopBudget)
	defer cancel()
	err := fire(short)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return err
	}
	return fire(ctx)
}

// Stop stops within the budget, or asks again with the whole context.
func (b stopDeadlineRetried) Stop(ctx context.Context) error { return b.end(ctx, b.c.m.Stop) }

// Fail fails within the budget, or asks again with the whole context.
func (b stopDeadlineRetried) Fail(ctx context.Context) error { return b.end(ctx, b.c.m.Fail) }

// callEndedOnGoroutine: HookWaitsForWriters whose CallEnded handler ends
// the machine on a goroutine and returns at once (the termination webhook
// must answer within seconds). See CallEndedOnGoroutine.
type callEndedOnGoroutine struct{ *admitQueue }

func newCallEndedOnGoroutine(env *properties.Env) (properties.Bot, error) {
	b, err := newHookWaitsForWriters(env)
	if err != nil {
		return nil, err
	}
	return callEndedOnGoroutine{b.(*admitQueue)}, nil
}

// CallEnded ends the machine on a goroutine of its own.
func (b callEndedOnGoroutine) CallEnded(ctx context.Context) error {
	go func() { _ = b.c.m.CallEnded(context.WithoutCancel(ctx)) }()
	return nil
}

// leaseIdle is how long leaseKept keeps a stream's lease after its last
// frame.
const leaseIdle = 20 * time.Millisecond

// framesPerLease is how many frames leaseKept writes under one lease.
const framesPerLease = 4

// leaseKept: the handler writes each frame itself, but keeps its
// stream's lease across frames ("a lease per frame is overhead"): it is
// released after framesPerLease frames, or once the stream was idle for
// leaseIdle. A frame that comes after Stop closed the gate, while the
// lease is still held, is written under it. See LeaseKeptAcrossFrames.
type leaseKept struct {
	control
	mu    sync.Mutex
	held  []fsm.Lease
	count []int
	idle  []*time.Timer
}

func newLeaseKept(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil, nil)
	if err != nil {
		return nil, err
	}
	n := len(c.streams)
	return &leaseKept{control: control{c}, held: make([]fsm.Lease, n), count: make([]int, n), idle: make([]*time.Timer, n)}, nil
}

// Frame writes the frame under the stream's kept lease, taking one if
// none is held.
func (b *leaseKept) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count[stream] == 0 {
		l, err := b.c.streams[stream].Acquire()
		if err != nil {
			return err
		}
		b.held[stream] = l
	}
	_, err := b.c.sink.Write(stream, payload)
	b.count[stream]++
	if b.count[stream] >= framesPerLease {
		b.releaseLocked(stream)
		return err
	}
	if b.idle[stream] != nil {
		b.idle[stream].Stop()
	}
	b.idle[stream] = time.AfterFunc(leaseIdle, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.releaseLocked(stream)
	})
	return err
}

// releaseLocked releases stream's lease, if held.
func (b *leaseKept) releaseLocked(stream int) {
	if b.count[stream] == 0 {
		return
	}
	b.held[stream].Release()
	b.held[stream], b.count[stream] = fsm.Lease{}, 0
	if b.idle[stream] != nil {
		b.idle[stream].Stop()
		b.idle[stream] = nil
	}
}
