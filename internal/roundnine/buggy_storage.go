package roundnine

import (
	"context"
	"errors"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// failedFrames is a bot with a list of the frames storage failed, written
// under their lease and kept for a later try. The buggy bots below differ
// in when that later try comes.
type failedFrames struct {
	*base
	failed frameLog
}

func (b *failedFrames) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		if err := b.write(stream, p); err != nil {
			b.failed.add(stream, p)
		}
		return nil
	})
}

// writeFailed writes every failed frame again, each on its stream.
func (b *failedFrames) writeFailed() {
	for stream, frames := range b.failed.take() {
		for _, f := range frames {
			_ = b.write(stream, f)
		}
	}
}

// NewHookRetriesInGoroutine builds a bot whose recording-ended hook hands
// the failed frames to a goroutine ("don't hold up the hang-up on slow
// storage") and returns at once: the machine reports notRecording while
// the retries are on their way.
func NewHookRetriesInGoroutine(env *properties.Env) (properties.Bot, error) {
	b := &hookGoroutineBot{}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.failedFrames = &failedFrames{base: base}
	return b, nil
}

type hookGoroutineBot struct {
	*failedFrames
	wg sync.WaitGroup
}

func (b *hookGoroutineBot) hook(context.Context, fsm.Trigger) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.writeFailed()
	}()
	return b.sink.Flush()
}

// Close waits for the retries.
func (b *hookGoroutineBot) Close(context.Context) error {
	b.wg.Wait()
	return nil
}

// NewRetryAfterStopReturns builds a bot whose Stop and Fail, once the
// machine has returned ("the recording is over, now tidy up"), write the
// frames storage failed during it: after notRecording (or failed) was
// sent.
func NewRetryAfterStopReturns(env *properties.Env) (properties.Bot, error) {
	base, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &retryAfterStopBot{&failedFrames{base: base}}, nil
}

type retryAfterStopBot struct{ *failedFrames }

func (b *retryAfterStopBot) Stop(ctx context.Context) error {
	err := b.m.Stop(ctx)
	b.writeFailed()
	return err
}

func (b *retryAfterStopBot) Fail(ctx context.Context) error {
	err := b.m.Fail(ctx)
	b.writeFailed()
	return err
}

// NewHookRetriesAfterFlush builds a bot whose hook flushes and closes the
// recording first and then writes the frames storage failed ("the file is
// closed; append the stragglers"): the machine reports with writes the
// hook never flushed.
func NewHookRetriesAfterFlush(env *properties.Env) (properties.Bot, error) {
	b := &failedFrames{}
	base, err := newBase(env, func(context.Context, fsm.Trigger) error {
		err := env.Sink.Flush()
		b.writeFailed()
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

// NewSpoolUploadedAtHangup builds a bot that falls back to a local spool
// file when storage fails: the frame goes to the spool, and the spool is
// uploaded when the call ends, after the machine has ended the call (and
// reported notRecording long before, if the recording was stopped).
func NewSpoolUploadedAtHangup(env *properties.Env) (properties.Bot, error) {
	base, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &spoolAtHangupBot{&failedFrames{base: base}}, nil
}

type spoolAtHangupBot struct{ *failedFrames }

func (b *spoolAtHangupBot) CallEnded(ctx context.Context) error {
	err := b.m.CallEnded(ctx)
	b.writeFailed() // upload the spool
	return err
}

// NewSpoolReplayedAtNextOpen builds a bot that falls back to a local
// spool file when storage fails and uploads the spool when the gate next
// opens ("storage is reachable again, and we are allowed to write"): a
// spool filled in one recording is written in the next.
func NewSpoolReplayedAtNextOpen(env *properties.Env) (properties.Bot, error) {
	b := &failedFrames{}
	base, err := newBase(env, nil, func() { b.writeFailed() })
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

// NewRewriteWholeBufferOnError builds a bot that keeps an in-memory copy
// of each stream since the bot joined the call ("for resilience"; it is
// fed before the gate is asked, as the frame comes in) and, when storage
// fails a write, opens a new file for the stream (Sink stream
// i+k*Streams) and writes the whole copy into it, under the frame's
// lease: the copy starts before consent, and holds earlier recordings.
func NewRewriteWholeBufferOnError(env *properties.Env) (properties.Bot, error) {
	base, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &rewriteBot{base: base, file: make([]int, env.Streams), copies: make([][]byte, env.Streams)}, nil
}

type rewriteBot struct {
	*base
	mu     sync.Mutex
	file   []int    // each stream's file: Sink stream i+file[i]*Streams
	copies [][]byte // each stream's media since the bot joined
}

func (b *rewriteBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	b.copies[stream] = append(b.copies[stream], p...)
	b.mu.Unlock()
	return b.underLease(stream, func() error {
		b.mu.Lock()
		f := stream + b.file[stream]*len(b.file)
		b.mu.Unlock()
		err := b.write(f, p)
		if err == nil {
			return nil
		}
		b.mu.Lock()
		b.file[stream]++
		f = stream + b.file[stream]*len(b.file)
		whole := append([]byte(nil), b.copies[stream]...)
		b.mu.Unlock()
		return b.write(f, whole)
	})
}

// breakerFrames is how many frames of a stream the circuit breaker of
// NewCircuitBreakerBuffers stays open after a failure.
const breakerFrames = 4

// NewCircuitBreakerBuffers builds a bot with a circuit breaker per
// stream in front of storage: after a failed write the breaker opens for
// the stream's next four frames, which are buffered in memory as they
// come ("storage is down; don't lose media"), gate or no gate; the first
// frame after that which gets a lease writes the buffer and itself. What
// the breaker held stays held until a write succeeds.
func NewCircuitBreakerBuffers(env *properties.Env) (properties.Bot, error) {
	base, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &breakerBot{base: base, open: make([]int, env.Streams), held: make([][]byte, env.Streams)}, nil
}

type breakerBot struct {
	*base
	mu   sync.Mutex
	open []int    // frames left before the breaker closes, per stream
	held [][]byte // what the open breaker buffered, per stream
}

func (b *breakerBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	b.mu.Lock()
	if b.open[stream] > 0 {
		b.open[stream]--
		b.held[stream] = append(b.held[stream], p...)
		b.mu.Unlock()
		return nil
	}
	batch := append(append([]byte(nil), b.held[stream]...), p...)
	b.mu.Unlock()
	return b.underLease(stream, func() error {
		err := b.write(stream, batch)
		b.mu.Lock()
		defer b.mu.Unlock()
		if err != nil {
			b.open[stream] = breakerFrames // the frame stays held for the retry
			b.held[stream] = batch
			return nil
		}
		b.held[stream] = nil
		return nil
	})
}

// NewFailUnderOwnLease builds a bot that calls Fail when storage fails,
// from inside the frame's write, while the lease it took with a deferred
// Release is still held: Fail closes the gate and waits for every lease,
// its caller's included, for ever.
func NewFailUnderOwnLease(env *properties.Env) (properties.Bot, error) {
	base, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &failUnderLeaseBot{base}, nil
}

type failUnderLeaseBot struct{ *base }

func (b *failUnderLeaseBot) Frame(ctx context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	if err := b.write(stream, p); err != nil {
		return errors.Join(err, b.m.Fail(ctx))
	}
	return nil
}
