package userbots

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots that keep the rule while doing something unusual.

// retryingStop is correct: when notRecording (or failed) is throttled or
// Graph has a bad minute (429, 503, 504), the machine stays in Stopping
// with the gate closed and the bot calls Stop again, as fsm's docs say,
// up to three tries. The retry is the same request after a retryable
// reply, which the protocol allows.
type retryingStop struct{ *fsmBot }

// NewRetryingStop builds the bot that retries a throttled report.
func NewRetryingStop(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(env, flushSink(env))
	if err != nil {
		return nil, err
	}
	return &retryingStop{fb}, nil
}

func retryReport(ctx context.Context, report func(context.Context) error) error {
	var err error
	for try := 0; try < 3; try++ {
		err = report(ctx)
		var ge *graph.Error
		if err == nil || !errors.As(err, &ge) || !ge.Temporary() {
			return err
		}
	}
	return err
}

func (b *retryingStop) Stop(ctx context.Context) error { return retryReport(ctx, b.m.Stop) }
func (b *retryingStop) Fail(ctx context.Context) error { return retryReport(ctx, b.m.Fail) }

// uploadAtEnd is correct: it keeps the whole recording in memory (only
// frames admitted under a lease, so only media of the confirmed
// recording) and writes it in one piece from the recording-ended hook,
// which runs after the gate closed and before the report; also when the
// call ended in the middle of the recording.
type uploadAtEnd struct {
	*fsmBot
	mu  sync.Mutex
	rec [][]byte
}

// NewUploadAtEnd builds the bot that uploads each recording when it ends.
func NewUploadAtEnd(env *properties.Env) (properties.Bot, error) {
	b := &uploadAtEnd{rec: make([][]byte, env.Streams)}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *uploadAtEnd) Frame(_ context.Context, stream int, payload []byte) error {
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
	b.rec[stream] = append(b.rec[stream], payload...)
	b.mu.Unlock()
	return nil
}

func (b *uploadAtEnd) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, p := range b.rec {
		b.rec[i] = nil
		if len(p) > 0 {
			if _, err := b.env.Sink.Write(i, p); err != nil {
				return err
			}
		}
	}
	return b.env.Sink.Flush()
}

// intervalSummary is correct: a transcript of the frames admitted in this
// recording (under a lease) is written as a summary line, words and all,
// by the recording-ended hook, and starts empty in the next recording.
// Data derived from media, persisted inside the recording it came from.
type intervalSummary struct {
	*fsmBot
	mu    sync.Mutex
	words []string
}

// NewIntervalSummary builds the bot that stores each recording's transcript.
func NewIntervalSummary(env *properties.Env) (properties.Bot, error) {
	b := &intervalSummary{}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *intervalSummary) Frame(_ context.Context, stream int, payload []byte) error {
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
	b.words = append(b.words, string(payload))
	b.mu.Unlock()
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

func (b *intervalSummary) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	words := b.words
	b.words = nil
	b.mu.Unlock()
	if len(words) > 0 {
		line := fmt.Sprintf("summary (%d frames): %v\n", len(words), words)
		if _, err := b.env.Sink.Write(b.env.Streams, []byte(line)); err != nil {
			return err
		}
	}
	return b.env.Sink.Flush()
}

// headerTrailer is correct: each recording's file per stream begins with a
// header (written under the lease of the first frame) and ends with a
// trailer giving its length (written by the recording-ended hook, before
// the report), as WAV and MP4 writers do.
type headerTrailer struct {
	*fsmBot
	mu      sync.Mutex
	written []int // per stream: bytes of media in this recording; -1 before the header
}

// NewHeaderTrailer builds the bot that frames each recording's file.
func NewHeaderTrailer(env *properties.Env) (properties.Bot, error) {
	b := &headerTrailer{written: make([]int, env.Streams)}
	for i := range b.written {
		b.written[i] = -1
	}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *headerTrailer) Frame(_ context.Context, stream int, payload []byte) error {
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
	if b.written[stream] < 0 {
		if _, err := b.env.Sink.Write(stream, []byte("RIFF\x00\x00\x00\x00WAVEfmt ")); err != nil {
			return err
		}
		b.written[stream] = 0
	}
	b.written[stream] += len(payload)
	_, err = b.env.Sink.Write(stream, payload)
	return err
}

func (b *headerTrailer) recordingEnded(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, n := range b.written {
		if n >= 0 {
			if _, err := b.env.Sink.Write(i, []byte(fmt.Sprintf("[end of recording: %d bytes]", n))); err != nil {
				return err
			}
		}
		b.written[i] = -1
	}
	return b.env.Sink.Flush()
}

// writerPerStream is correct: one writer goroutine per stream. Frame
// queues a frame only under the stream's lease; the writer writes in
// order; the recording-ended hook puts a barrier in every queue and waits
// until each writer has reached it, so everything admitted in the
// recording is written before the report and nothing crosses into the
// next recording.
type writerPerStream struct {
	*fsmBot
	queues []chan tailFrame
	done   []chan struct{}
	quit   chan struct{}
	once   sync.Once
}

// NewWriterPerStream builds the bot with a writer goroutine per stream.
func NewWriterPerStream(env *properties.Env) (properties.Bot, error) {
	b := &writerPerStream{quit: make(chan struct{})}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	for i := 0; i < env.Streams; i++ {
		q, d := make(chan tailFrame, 32), make(chan struct{})
		b.queues, b.done = append(b.queues, q), append(b.done, d)
		go b.write(q, d)
	}
	return b, nil
}

// write is one stream's writer: frames in order; a barrier is closed
// once everything queued before it is written.
func (b *writerPerStream) write(q chan tailFrame, done chan struct{}) {
	defer close(done)
	for {
		select {
		case f := <-q:
			if f.barrier != nil {
				close(f.barrier)
				continue
			}
			_, _ = b.env.Sink.Write(f.stream, f.payload)
		case <-b.quit:
			return
		}
	}
}

func (b *writerPerStream) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	select {
	case b.queues[stream] <- tailFrame{stream: stream, payload: append([]byte(nil), payload...)}:
		return nil
	case <-b.quit:
		return errDropped
	}
}

func (b *writerPerStream) recordingEnded(ctx context.Context, _ fsm.Trigger) error {
	for i, q := range b.queues {
		reached := make(chan struct{})
		select {
		case q <- tailFrame{stream: -1, barrier: reached}:
		case <-b.quit:
			return errDropped
		}
		select {
		case <-reached:
		case <-b.done[i]:
			return errDropped
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.env.Sink.Flush()
}

// Close stops the writers (properties.Closer).
func (b *writerPerStream) Close(context.Context) error {
	b.once.Do(func() { close(b.quit) })
	for _, d := range b.done {
		<-d
	}
	return nil
}

// emptyFlushOnClose is correct, and persists nothing outside a recording:
// frames admitted under a lease wait in a per-stream buffer of a few
// frames; the hook writes and empties the buffers; Close, at shutdown,
// "flushes" every buffer, as the team's storage wrapper always does, with
// a Write of what is left, which is nothing: zero bytes.
type emptyFlushOnClose struct {
	*fsmBot
	mu  sync.Mutex
	buf [][]byte
}

// NewEmptyFlushOnClose builds the bot whose Close writes empty buffers.
func NewEmptyFlushOnClose(env *properties.Env) (properties.Bot, error) {
	b := &emptyFlushOnClose{buf: make([][]byte, env.Streams)}
	fb, err := newFSMBot(env, b.recordingEnded)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	return b, nil
}

func (b *emptyFlushOnClose) Frame(_ context.Context, stream int, payload []byte) error {
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
	b.buf[stream] = append(b.buf[stream], payload...)
	if len(b.buf[stream]) > 256 {
		_, err = b.env.Sink.Write(stream, b.buf[stream])
		b.buf[stream] = b.buf[stream][:0]
	}
	return err
}

func (b *emptyFlushOnClose) drain() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, p := range b.buf {
		if _, err := b.env.Sink.Write(i, p); err != nil { // p may be empty: the wrapper writes anyway
			return err
		}
		b.buf[i] = b.buf[i][:0]
	}
	return nil
}

func (b *emptyFlushOnClose) recordingEnded(_ context.Context, why fsm.Trigger) error {
	if why == fsm.CallEnded {
		b.mu.Lock()
		for i := range b.buf {
			b.buf[i] = b.buf[i][:0] // the call is gone: drop the tail
		}
		b.mu.Unlock()
	} else if err := b.drain(); err != nil {
		return err
	}
	return b.env.Sink.Flush()
}

// Close flushes the (empty) buffers (properties.Closer).
func (b *emptyFlushOnClose) Close(context.Context) error { return b.drain() }
