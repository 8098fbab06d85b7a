package roundseventeen

import (
	"context"
	"sync"

	"github.com/recgate/recgate/properties"
)

// leasesPerStream is how many frames of one stream may be queued, each
// under its own lease, before the handler drops frames.
const leasesPerStream = 16

// boundWriterProcess keeps one writer goroutine per stream number for
// the whole process ("a writer per media socket, started on demand"):
// the first call whose frame finds no writer for its stream starts one,
// built with that call's storage client, and the writer exits once its
// queue is empty. Every call's handler admits its frame under its own
// lease and queues it on the stream's writer, which writes it into the
// storage it was built with. See WriterBoundToFirstCall.
type boundWriterProcess struct {
	mu      sync.Mutex
	writers map[int]*boundWriter
}

// boundWriter is one stream's writer and the call it was built for.
type boundWriter struct {
	owner *call
	q     chan job
}

func newBoundWriterProcess() *boundWriterProcess {
	return &boundWriterProcess{writers: make(map[int]*boundWriter)}
}

// queue hands j to stream's writer, starting one built for c if none
// runs; a full queue drops the frame.
func (p *boundWriterProcess) queue(stream int, c *call, j job) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	w, ok := p.writers[stream]
	if !ok {
		w = &boundWriter{owner: c, q: make(chan job, leasesPerStream)}
		p.writers[stream] = w
		go p.write(stream, w)
	}
	select {
	case w.q <- j:
		return nil
	default:
		return errDropped
	}
}

// write is a writer: it writes its queue into its owner's storage, and
// exits (leaving the stream to the next call that queues a frame) once
// the queue is empty.
func (p *boundWriterProcess) write(stream int, w *boundWriter) {
	sink := w.owner.sink // the storage client the writer was built with
	for {
		p.mu.Lock()
		select {
		case j := <-w.q:
			p.mu.Unlock()
			_, _ = sink.Write(j.stream, j.payload)
			j.release()
		default:
			delete(p.writers, stream)
			p.mu.Unlock()
			return
		}
	}
}

// newBot is the factory.
func (p *boundWriterProcess) newBot(env *properties.Env) (properties.Bot, error) {
	c, err := newCall(env, nil)
	if err != nil {
		return nil, err
	}
	b := &boundWriterBot{control: control{c}, p: p}
	for range c.streams {
		b.pools = append(b.pools, newLeasePool(c.m.Gate(), leasesPerStream))
	}
	return b, nil
}

type boundWriterBot struct {
	control
	p     *boundWriterProcess
	pools []*leasePool
}

// Frame admits the frame under the call's own lease and queues it, lease
// and all, on the process's writer for the stream.
func (b *boundWriterBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := b.c.checkStream(stream); err != nil {
		return err
	}
	j, err := b.pools[stream].job(stream, payload)
	if err != nil {
		return err
	}
	if err := b.p.queue(stream, b.c, j); err != nil {
		j.release()
		return err
	}
	return nil
}
