package roundsixteen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// writeJob is one frame handed to the process's writers.
type writeJob struct {
	// to is the call whose storage the job goes to (nil: the writer
	// decides).
	to      *call
	stream  int
	payload []byte
	done    chan error
}

// poolWorkers is how many writer goroutines the correct pool runs.
const poolWorkers = 4

// poolProcess is a pool of writer goroutines the whole process shares
// ("the storage client is expensive, and slow: a few workers write for
// every call"). A call's media handler takes its own call's lease, hands
// the job (its call's storage, its stream, the frame) to the pool, and
// holds the lease until a worker wrote it: each job is written under its
// own call's lease to its own call's Sink.
type poolProcess struct{ jobs chan writeJob }

func newPoolProcess() *poolProcess {
	p := &poolProcess{jobs: make(chan writeJob)}
	for range poolWorkers {
		go p.work()
	}
	return p
}

// work writes jobs for as long as the process lives (a worker that waits
// for a job is idle, and the suite takes it as quiet).
func (p *poolProcess) work() {
	for j := range p.jobs {
		_, err := j.to.sink.Write(j.stream, j.payload)
		j.done <- err
	}
}

// newBot is the factory.
func (p *poolProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, callWiring{})
	if err != nil {
		return nil, err
	}
	return &poolBot{control: control{c}, p: p}, nil
}

type poolBot struct {
	control
	p *poolProcess
}

// Frame takes the call's lease, has a worker write the frame to the
// call's own Sink, and releases the lease once it was written. It waits
// for the worker whatever its context says: a lease let go while the
// write is still queued would let Stop report before it lands.
func (b *poolBot) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.c.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	j := writeJob{to: b.c, stream: stream, payload: payload, done: make(chan error, 1)}
	b.p.jobs <- j
	return <-j.done
}

// CallEnded ends the call's machine.
func (b *poolBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }

// writerProcess is one writer goroutine for the whole process, for a team
// whose storage client is not safe for concurrent use ("one writer,
// everything else queues"). A job carries a stream and a frame, and the
// writer writes it, under a lease of its own, into the call that is
// recording: the team had one recording at a time in mind, and a media
// handler queues its frame whenever some call records. With one call,
// that call is the one recording and the writer's lease is its gate's.
// With two, the other call's frames are written into the recording call's
// storage.
type writerProcess struct {
	jobs      chan writeJob
	mu        sync.Mutex
	recording *writerCall
}

// writerCall is a call with the Streams the writer's leases come from.
type writerCall struct {
	*call
	writer []*fsm.Stream
}

func newWriterProcess() *writerProcess {
	p := &writerProcess{jobs: make(chan writeJob)}
	go p.write()
	return p
}

// write is the process's writer.
func (p *writerProcess) write() {
	for j := range p.jobs {
		j.done <- p.writeOne(j)
	}
}

func (p *writerProcess) writeOne(j writeJob) error {
	p.mu.Lock()
	rec := p.recording
	p.mu.Unlock()
	if rec == nil || j.stream >= len(rec.writer) {
		return errNotOpen
	}
	lease, err := rec.writer[j.stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = rec.sink.Write(j.stream, j.payload)
	return err
}

// newBot is the factory.
func (p *writerProcess) newBot(env *properties.Env) (properties.Bot, error) {
	wc := &writerCall{}
	c, err := newCall(env, callWiring{onGate: func(open bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch {
		case open:
			p.recording = wc
		case p.recording == wc:
			p.recording = nil
		}
	}})
	if err != nil {
		return nil, err
	}
	wc.call = c
	for i := 0; i < env.Streams; i++ {
		wc.writer = append(wc.writer, c.m.Gate().NewStream())
	}
	return &writerBot{control: control{c}, p: p}, nil
}

type writerBot struct {
	control
	p *writerProcess
}

// Frame queues payload for the writer while some call records, and waits
// until it was written (or dropped).
func (b *writerBot) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.c.stream(stream); err != nil {
		return err
	}
	b.p.mu.Lock()
	recording := b.p.recording != nil
	b.p.mu.Unlock()
	if !recording {
		return errNotOpen
	}
	j := writeJob{stream: stream, payload: payload, done: make(chan error, 1)}
	b.p.jobs <- j
	return <-j.done
}

// CallEnded ends the call's machine.
func (b *writerBot) CallEnded(ctx context.Context) error { return b.c.m.CallEnded(ctx) }
