package roundseven

import (
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// queueDepth is how many frames a stream's writer goroutine may have
// queued: 640 ms of audio at 50 frames a second.
const queueDepth = 32

// NewQueueFullFallback builds a bot with a writer goroutine per stream:
// the frame handler takes the lease and queues the frame with it, and the
// writer writes and releases (round five's correct WorkerPoolLeases).
// When a stream's queue is full (storage is behind), the handler releases
// the lease and writes the frame itself ("never drop audio; never hold
// the gate across a slow write"): a write without a lease, which a Stop
// does not wait for. Only storage slow enough to fill 32 frames of queue
// takes that path.
func NewQueueFullFallback(env *properties.Env) (properties.Bot, error) {
	return newQueueFull(env.CallID, env.Updater, env.Streams, env.Sink, env.GateOpened)
}

func newQueueFull(callID string, u fsm.Updater, n int, st storage, opened func()) (*queueFullBot, error) {
	b := &queueFullBot{locks: make([]sync.Mutex, n)}
	// The hook needs no barrier: a queued frame holds its lease until it
	// is written, and the hook runs after every lease was released.
	base, err := newFSMBot(callID, u, n, st, opened, nil)
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	for i := 0; i < n; i++ {
		q := make(chan leasedFrame, queueDepth)
		b.queues = append(b.queues, q)
		b.wg.Add(1)
		go b.write(i, q)
	}
	return b, nil
}

type queueFullBot struct {
	*fsmBot
	locks  []sync.Mutex // per stream: one user of its Stream at a time
	queues []chan leasedFrame
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

type leasedFrame struct {
	p     []byte
	s     *fsm.Stream
	lease fsm.Lease
}

func (b *queueFullBot) write(stream int, q <-chan leasedFrame) {
	defer b.wg.Done()
	for f := range q {
		_, _ = b.store.Write(stream, f.p)
		f.lease.Release()
		_ = f.s.Close()
	}
}

func (b *queueFullBot) Frame(_ context.Context, stream int, payload []byte) error {
	if err := checkStream(stream, b.n); err != nil {
		return err
	}
	b.locks[stream].Lock()
	defer b.locks[stream].Unlock()
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errStopped
	}
	b.mu.Unlock()
	// A Stream serves one lease at a time, and a queued frame keeps its
	// lease until written: each frame gets a Stream of its own.
	s := b.m.Gate().NewStream()
	lease, err := s.Acquire()
	if err != nil {
		_ = s.Close()
		return err
	}
	p := append([]byte(nil), payload...)
	select {
	case b.queues[stream] <- leasedFrame{p, s, lease}:
		return nil
	default:
		lease.Release() // storage is behind: do not hold the gate across it
		_ = s.Close()
		_, err = b.store.Write(stream, p)
		return err
	}
}

// Close stops the writers once their queues are empty.
func (b *queueFullBot) Close(context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		for _, q := range b.queues {
			close(q)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
	return nil
}
