package roundseventeen

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/properties"
)

// swapEvery is the double buffer's ticker period.
const swapEvery = 5 * time.Millisecond

// doubleBuffer admits each frame under a lease into the front buffer; a
// ticker swaps the buffers and writes the back one without a lease; the
// recording-ended hook takes the front buffer and writes it (R2: nothing
// admitted stays behind), but does not wait for a back buffer the ticker
// is writing. See DoubleBufferTickerSwap.
type doubleBuffer struct {
	control
	mu     sync.Mutex
	front  []job
	ticker *time.Ticker
	quit   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func newDoubleBuffer(env *properties.Env) (properties.Bot, error) {
	b := &doubleBuffer{quit: make(chan struct{}), done: make(chan struct{})}
	c, err := newCall(env, func(context.Context) error {
		b.writeOut(b.swap())
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	b.ticker = time.NewTicker(swapEvery)
	go func() {
		defer close(b.done)
		for {
			select {
			case <-b.ticker.C:
				b.writeOut(b.swap())
			case <-b.quit:
				b.writeOut(b.swap())
				return
			}
		}
	}()
	return b, nil
}

// swap takes the front buffer, leaving an empty one.
func (b *doubleBuffer) swap() []job {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.front
	b.front = nil
	return out
}

func (b *doubleBuffer) writeOut(out []job) {
	for _, j := range out {
		_, _ = b.c.sink.Write(j.stream, j.payload)
	}
}

// Frame admits the frame under a lease into the front buffer.
func (b *doubleBuffer) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	b.front = append(b.front, job{stream: stream, payload: copyOf(payload)})
	b.mu.Unlock()
	return nil
}

// Close stops the ticker once it wrote what is buffered.
func (b *doubleBuffer) Close(context.Context) error {
	b.once.Do(func() { b.ticker.Stop(); close(b.quit) })
	<-b.done
	return nil
}
