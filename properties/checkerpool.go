package properties

import "sync"

// runnerPool keeps the goroutines that run the machine's threads, so a
// replay does not start (and grow the stack of) a new goroutine for every
// event.
type runnerPool struct {
	mu     sync.Mutex
	idle   []chan func()
	closed bool
}

func (p *runnerPool) spawn(f func()) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 && !p.closed {
		r := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		r <- f
		return
	}
	p.mu.Unlock()
	r := make(chan func(), 1)
	r <- f
	go func() {
		for f := range r {
			f()
			p.mu.Lock()
			if p.closed || len(p.idle) >= 64 {
				p.mu.Unlock()
				return
			}
			p.idle = append(p.idle, r)
			p.mu.Unlock()
		}
	}()
}

func (p *runnerPool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, r := range p.idle {
		close(r)
	}
	p.idle = nil
}
