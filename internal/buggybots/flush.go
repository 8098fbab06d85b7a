package buggybots

import (
	"bufio"
	"context"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// hookDoesNotFlush is the bug. Small writes to storage were slow, so the
// team wraps each stream's writer in a bufio.Writer and writes every frame
// under a lease, by the book. The recording-ended hook calls Sink.Flush
// ("flush the recording") but not the bufio.Writers: the frames they hold
// reach storage when a buffer fills during a later recording (P7) or when
// Close flushes them on shutdown, after notRecording or after the call
// ended (P1, P9).
type hookDoesNotFlush struct {
	*machineBot
	mu  sync.Mutex
	out []*bufio.Writer // per stream, over env.Sink.Stream(i)
}

// NewHookDoesNotFlush builds the bot whose hook leaves bytes buffered.
func NewHookDoesNotFlush(env *properties.Env) (properties.Bot, error) {
	b := &hookDoesNotFlush{}
	return b.wire(env, func(context.Context, fsm.Trigger) error { return env.Sink.Flush() })
}

// NewBufferedRecording builds the same bot with the hook fixed: it flushes
// the bufio.Writers (the gate is closed and every lease released, so no
// frame is being added), then storage. It is correct.
func NewBufferedRecording(env *properties.Env) (properties.Bot, error) {
	b := &hookDoesNotFlush{}
	return b.wire(env, func(_ context.Context, why fsm.Trigger) error {
		if why == fsm.CallEnded {
			b.discard() // the call is over: nothing more may be persisted
		} else if err := b.Close(context.Background()); err != nil {
			return err
		}
		return env.Sink.Flush()
	})
}

func (b *hookDoesNotFlush) wire(env *properties.Env, hook fsm.EndedHook) (properties.Bot, error) {
	for i := 0; i < env.Streams; i++ {
		b.out = append(b.out, bufio.NewWriter(env.Sink.Stream(i)))
	}
	mb, err := newMachineBot(env, hook)
	if err != nil {
		return nil, err
	}
	b.machineBot = mb
	return b, nil
}

// discard drops what the buffers hold.
func (b *hookDoesNotFlush) discard() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, w := range b.out {
		w.Reset(b.env.Sink.Stream(i))
	}
}

func (b *hookDoesNotFlush) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err = b.out[stream].Write(payload)
	return err
}

// Close flushes the buffers so nothing is lost on shutdown
// (properties.Closer).
func (b *hookDoesNotFlush) Close(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.out {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return nil
}
