package roundfive

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// ControlStream is the Sink stream on which the correct bots of this round
// keep their control-plane records (no media): far above any media
// stream the suite uses, and named in WithUntracedStreams.
const ControlStream = 99

// NewControlLog builds a correct bot that keeps a control log beside its
// media: one line per Graph exchange (which request, the machine's state
// after it, the operation id, the error), on ControlStream.
//
// Why a team does it: a compliance reviewer asks "when did you ask Graph,
// and what did it say?", and the answer belongs with the recording. The
// log holds no media and nothing derived from it, so the rule says
// nothing about when it is written: before the first recording request,
// and after notRecording, like any application log.
func NewControlLog(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &controlLog{fsmBot: b}, nil
}

type controlLog struct {
	*fsmBot
	mu sync.Mutex
	n  int
}

func (b *controlLog) note(what string, op graph.Operation, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.n++
	line := fmt.Sprintf("%d %s state=%s op=%q err=%v\n", b.n, what, b.m.State(), op.ID, err != nil)
	_, _ = b.c.sink.Write(ControlStream, []byte(line))
}

func (b *controlLog) Start(ctx context.Context) error {
	b.note("start: asking Graph for recording", graph.Operation{}, nil)
	op, err := b.m.Start(ctx)
	b.note("start: answered", op, err)
	return err
}

func (b *controlLog) Stop(ctx context.Context) error {
	err := b.m.Stop(ctx)
	b.note("stop", graph.Operation{}, err)
	return err
}

func (b *controlLog) Fail(ctx context.Context) error {
	err := b.m.Fail(ctx)
	b.note("fail", graph.Operation{}, err)
	return err
}

// NewAuditTrailOnSink builds a correct bot that keeps fsm's own audit
// trail (fsm.WithAuditTrail) in its recording storage, on ControlStream.
//
// Why a team does it: README's review report reads the trail, and the
// team stores it with the recording it vouches for. The trail holds no
// media: Graph's requests and replies, the gate's moves, the hook.
func NewAuditTrailOnSink(env *properties.Env) (properties.Bot, error) {
	c := callOf(env)
	b, err := newFSMBot(c, nil, fsm.WithAuditTrail(streamWriter{c.sink, ControlStream}))
	if err != nil {
		return nil, err
	}
	return b, nil
}

// NewWorkerPoolLeases builds a correct bot with a pool of writer
// goroutines, each with a Stream of its own. The frame handler takes an
// idle worker, takes a lease on the worker's Stream (at capture time),
// and hands the worker the frame with its lease; the worker writes and
// releases. Stop waits for the leases, so for the writes.
func NewWorkerPoolLeases(env *properties.Env) (properties.Bot, error) {
	c := callOf(env)
	b, err := newFSMBot(c, nil)
	if err != nil {
		return nil, err
	}
	p := &workerPool{fsmBot: b, idle: make(chan *worker, 2)}
	for i := 0; i < 2; i++ {
		w := &worker{s: b.m.Gate().NewStream(), jobs: make(chan job, 1)}
		p.wg.Add(1)
		go p.run(w)
		p.idle <- w
		p.workers = append(p.workers, w)
	}
	return p, nil
}

type job struct {
	lease   fsm.Lease
	stream  int
	payload []byte
}

type worker struct {
	s    *fsm.Stream
	jobs chan job
}

type workerPool struct {
	*fsmBot
	idle    chan *worker
	workers []*worker
	wg      sync.WaitGroup
	once    sync.Once
}

func (p *workerPool) run(w *worker) {
	defer p.wg.Done()
	for j := range w.jobs {
		_, _ = p.c.sink.Write(j.stream, j.payload)
		j.lease.Release()
		p.idle <- w
	}
}

func (p *workerPool) Frame(ctx context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= p.c.streams {
		return errNoStream
	}
	var w *worker
	select {
	case w = <-p.idle:
	case <-ctx.Done():
		return ctx.Err()
	}
	lease, err := w.s.Acquire()
	if err != nil {
		p.idle <- w
		return err
	}
	w.jobs <- job{lease: lease, stream: stream, payload: append([]byte(nil), payload...)}
	return nil
}

// Close stops the workers once they are idle.
func (p *workerPool) Close(ctx context.Context) error {
	p.once.Do(func() {
		for range p.workers {
			select {
			case <-p.idle:
			case <-ctx.Done():
				return
			}
		}
		for _, w := range p.workers {
			close(w.jobs)
		}
	})
	p.wg.Wait()
	return nil
}

// NewEveryOtherFrame builds a correct bot that persists every other frame
// of each stream (half the frame rate, to halve storage), under a lease.
func NewEveryOtherFrame(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &everyOther{fsmBot: b, n: make([]atomic.Int64, env.Streams)}, nil
}

type everyOther struct {
	*fsmBot
	n []atomic.Int64
}

func (b *everyOther) Frame(ctx context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= len(b.n) {
		return errNoStream
	}
	if b.n[stream].Add(1)%2 == 0 {
		return nil // skipped
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}

// NewRotatePerRecording builds a correct bot that writes each recording
// into files of its own: recording k's stream i goes to Sink stream
// i+10k. The hook flushes and then rotates (the next recording gets new
// files); the segment number is read under the frame's lease, and the
// hook runs only once every lease is released.
func NewRotatePerRecording(env *properties.Env) (properties.Bot, error) {
	b := &rotating{}
	c := callOf(env)
	f, err := newFSMBot(c, func(context.Context, fsm.Trigger) error {
		err := c.sink.Flush()
		b.segment.Add(1)
		return err
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = f
	return b, nil
}

type rotating struct {
	*fsmBot
	segment atomic.Int64
}

func (b *rotating) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.c.sink.Write(stream+10*int(b.segment.Load()), payload)
	return err
}
