package buggybots

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// Write-behind, right and wrong.
//
// Teams move storage writes off the media thread: Frame queues, a writer
// goroutine writes. That is fine if the recording does not end until the
// writer has written everything accepted inside it, that is, if the
// recording-ended hook waits for the writer; it breaks R2 if Stop returns
// (and notRecording goes out) while frames are still queued.

var errBotClosed = errors.New("buggybots: bot closed")

// queued is a frame accepted inside the recording, or a barrier: the writer
// closes barrier once everything queued before it is written (or, when
// discard is set, dropped).
type queued struct {
	stream  int
	payload []byte
	barrier chan struct{}
	discard bool
}

// writeBehind is correct. Frame queues only under a lease, so the hook's
// barrier comes after every frame accepted in the recording; the writer
// takes a lease of its own for each write while the gate is open, and
// writes what the closing gate left behind when the hook's barrier asks it
// to. The hook returns only once the writer has reached the barrier.
type writeBehind struct {
	*machineBot
	queue      chan queued
	writer     *fsm.Stream // the writer goroutine's own lease holder
	quit, done chan struct{}
	closeOnce  sync.Once
}

// NewWriteBehind builds the correct write-behind bot.
func NewWriteBehind(env *properties.Env) (properties.Bot, error) {
	b := &writeBehind{queue: make(chan queued, 64), quit: make(chan struct{}), done: make(chan struct{})}
	mb, err := newMachineBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.machineBot, b.writer = mb, mb.m.Gate().NewStream()
	go b.run()
	return b, nil
}

func (b *writeBehind) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release() // Stop's drain waits for this, so the enqueue comes before the barrier
	select {
	case b.queue <- queued{stream: stream, payload: append([]byte(nil), payload...)}:
		return nil
	case <-b.quit:
		return errBotClosed
	}
}

func (b *writeBehind) run() {
	defer close(b.done)
	var left []queued // accepted in the recording; the gate closed before the writer got to them
	for {
		select {
		case q := <-b.queue:
			switch {
			case q.barrier != nil:
				for _, l := range left {
					if !q.discard {
						_, _ = b.env.Sink.Write(l.stream, l.payload)
					}
				}
				left = nil
				close(q.barrier)
			case !b.writeUnderLease(q):
				left = append(left, q)
			}
		case <-b.quit:
			// Finish what is queued, still only under a lease: a frame
			// the gate no longer covers is dropped.
			for {
				select {
				case q := <-b.queue:
					if q.barrier == nil {
						b.writeUnderLease(q)
					}
				default:
					return
				}
			}
		}
	}
}

func (b *writeBehind) writeUnderLease(q queued) bool {
	lease, err := b.writer.Acquire()
	if err != nil {
		return false
	}
	defer lease.Release()
	_, _ = b.env.Sink.Write(q.stream, q.payload)
	return true
}

// recordingEnded waits until the writer has written (or, the call having
// ended, dropped) every frame accepted in the recording, then flushes.
func (b *writeBehind) recordingEnded(ctx context.Context, why fsm.Trigger) error {
	barrier := make(chan struct{})
	select {
	case b.queue <- queued{barrier: barrier, discard: why == fsm.CallEnded}:
	case <-b.quit:
		return errBotClosed
	}
	select {
	case <-barrier:
		return b.env.Sink.Flush()
	case <-b.done:
		return errBotClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the writer goroutine (properties.Closer).
func (b *writeBehind) Close(context.Context) error {
	b.closeOnce.Do(func() { close(b.quit) })
	<-b.done
	return nil
}

const batchFrames = 8 // frames per storage write

// leakyWriteBehind is the bug. The team checks the gate in Frame and hands
// the frame to a batching writer ("fewer, larger writes to blob
// storage"); the hook only flushes storage, and Stop returns while a
// batch is still being filled. The batch is written when it is full, or at
// Close ("flush what is left on shutdown"): after notRecording was sent,
// or in a later recording (P1, P7), and in any case after the bot was
// asked to stop (P9).
type leakyWriteBehind struct {
	*machineBot
	queue      chan queued
	quit, done chan struct{}
	closeOnce  sync.Once
}

// NewLeakyWriteBehind builds the bot whose Stop does not wait for its
// writer.
func NewLeakyWriteBehind(env *properties.Env) (properties.Bot, error) {
	b := &leakyWriteBehind{queue: make(chan queued, 64), quit: make(chan struct{}), done: make(chan struct{})}
	mb, err := newMachineBot(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	go b.run()
	return b, nil
}

func (b *leakyWriteBehind) Frame(_ context.Context, stream int, payload []byte) error {
	if _, err := b.stream(stream); err != nil {
		return err
	}
	if !b.m.Gate().IsOpen() {
		return errDropped
	}
	select {
	case b.queue <- queued{stream: stream, payload: append([]byte(nil), payload...)}:
		return nil
	case <-b.quit:
		return errBotClosed
	}
}

func (b *leakyWriteBehind) run() {
	defer close(b.done)
	var batch []queued
	write := func() { // one storage write per stream
		perStream := make([][]byte, b.env.Streams)
		for _, q := range batch {
			perStream[q.stream] = append(append(perStream[q.stream], q.payload...), ' ')
		}
		for i, p := range perStream {
			if len(p) > 0 {
				_, _ = b.env.Sink.Write(i, p)
			}
		}
		batch = nil
	}
	for {
		select {
		case q := <-b.queue:
			if batch = append(batch, q); len(batch) >= batchFrames {
				write()
			}
		case <-b.quit:
			for {
				select {
				case q := <-b.queue:
					batch = append(batch, q)
				default:
					write()
					return
				}
			}
		}
	}
}

// Close flushes the last batch and stops the writer (properties.Closer).
func (b *leakyWriteBehind) Close(context.Context) error {
	b.closeOnce.Do(func() { close(b.quit) })
	<-b.done
	return nil
}
