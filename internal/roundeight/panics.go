package roundeight

import (
	"bufio"
	"context"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// recoverInto is the bot's panic middleware, as most HTTP and media
// frameworks install one: a panicking handler becomes an error.
func recoverInto(err *error, as error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %v", as, r)
	}
}

// NewPanicLeaksLease builds a bot whose media handler takes the frame's
// lease, runs the level meter, writes and releases, with Release at the
// end rather than deferred ("defer costs on the hot path"). The meter
// panics on a frame of odd length; the middleware recovers, and the lease
// is never released: the stream refuses every later frame as busy, and
// the next Stop, Fail or CallEnded waits for that lease for ever.
func NewPanicLeaksLease(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &panicLeaseBot{fsmBot: base}, nil
}

type panicLeaseBot struct{ *fsmBot }

func (b *panicLeaseBot) Frame(_ context.Context, stream int, p []byte) (err error) {
	defer recoverInto(&err, errRecovered)
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	_ = pcmLevel(p) // the meter feeds the dashboard
	_, err = b.store.Write(stream, p)
	lease.Release()
	return err
}

// NewPanicRecoveredReleases builds a correct bot: the same level meter
// panics on odd frames, but the lease is released by a defer taken right
// after Acquire, so the middleware's recovery leaves nothing held; the
// panicking frame is dropped.
func NewPanicRecoveredReleases(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &panicDeferBot{fsmBot: base}, nil
}

type panicDeferBot struct{ *fsmBot }

func (b *panicDeferBot) Frame(_ context.Context, stream int, p []byte) (err error) {
	defer recoverInto(&err, errRecovered)
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_ = pcmLevel(p)
	_, err = b.store.Write(stream, p)
	return err
}

// NewPanicRetryQueue builds a bot with at-least-once media processing: the
// level meter runs on every frame first (voice activity for the live
// view), then the frame is written under its lease. A frame whose handler
// panicked is put in a retry queue by the middleware, and the stream's
// next frame first writes the queue under its own lease, without the meter
// ("safe mode"). A frame heard before consent panics before it meets the
// gate, so it is written once the gate opens; one that panicked in a
// recording can be written in the next.
func NewPanicRetryQueue(env *properties.Env) (properties.Bot, error) {
	base, err := newEnvBot(env, wiring{})
	if err != nil {
		return nil, err
	}
	return &panicRetryBot{fsmBot: base, queue: make([][][]byte, env.Streams)}, nil
}

type panicRetryBot struct {
	*fsmBot
	mu    sync.Mutex
	queue [][][]byte // per stream: frames whose handler panicked
}

func (b *panicRetryBot) Frame(_ context.Context, stream int, p []byte) (err error) {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			b.mu.Lock()
			b.queue[stream] = append(b.queue[stream], append([]byte(nil), p...))
			b.mu.Unlock()
			err = fmt.Errorf("%w: %v", errQueued, r)
		}
	}()
	b.retryQueued(stream)
	_ = pcmLevel(p)
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	_, err = b.store.Write(stream, p)
	return err
}

// retryQueued writes the stream's queued frames under one lease, if the
// gate grants it; otherwise they wait for the next frame.
func (b *panicRetryBot) retryQueued(stream int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue[stream]) == 0 {
		return
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return
	}
	defer lease.Release()
	for _, f := range b.queue[stream] {
		if _, err := b.store.Write(stream, f); err != nil {
			return
		}
	}
	b.queue[stream] = nil
}

// hookBufferSize is the bufio.Writer of HookRecoverSwallowsPanic: small,
// so frames reach storage every few frames.
const hookBufferSize = 128

// NewHookRecoverSwallowsPanic builds a bot with a bufio.Writer per stream
// and recording (a segment), made when the stream's first frame of the
// recording is written, and a recording-ended hook that flushes every
// stream's writer, ends the segment, then flushes the storage. The team
// wraps every hook in a recover ("a panicking hook must never wedge the
// machine") that logs and returns nil. The hook flushes streams in order;
// a stream that had no frame in the recording has a nil writer, whose
// Flush panics: the streams after it keep their buffers (and their
// segment), the storage is not flushed, and the machine, told that the
// hook succeeded, reports. Those buffers reach storage when they fill, in
// the next recording.
func NewHookRecoverSwallowsPanic(env *properties.Env) (properties.Bot, error) {
	b := &swallowBot{bw: make([]*bufio.Writer, env.Streams)}
	base, err := newEnvBot(env, wiring{hook: b.hook})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

type swallowBot struct {
	*fsmBot
	mu sync.Mutex
	bw []*bufio.Writer
}

func (b *swallowBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bw[stream] == nil {
		b.bw[stream] = bufio.NewWriterSize(streamWriter{b.store, stream}, hookBufferSize)
	}
	_, err = b.bw[stream].Write(p)
	return err
}

func (b *swallowBot) hook(_ context.Context, _ fsm.Trigger) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = nil // logged in production: "hook panicked, recovered"
		}
	}()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, w := range b.bw {
		if err := w.Flush(); err != nil {
			return err
		}
		b.bw[i] = nil // the next recording is a new segment
	}
	return b.store.Flush()
}

// streamWriter is one stream of a storage as an io.Writer.
type streamWriter struct {
	st storage
	i  int
}

func (w streamWriter) Write(p []byte) (int, error) { return w.st.Write(w.i, p) }
