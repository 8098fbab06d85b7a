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
		growStack(0)
		for f := range r {
			f()
			p.mu.Lock()
			if p.closed || len(p.idle) >= maxIdleRunners {
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

// maxIdleRunners bounds the goroutines the pool keeps idle.
const maxIdleRunners = 1024

// growStack grows a new runner's stack at once to the size the machine's
// deepest calls need (through stateless and the guards), so that it is
// copied once, not at every doubling.
//
//go:noinline
func growStack(i int) byte {
	var frame [24 << 10]byte
	frame[i] = 1
	return frame[len(frame)-1-i]
}
