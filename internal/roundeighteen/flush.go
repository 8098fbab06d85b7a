package roundeighteen

import (
	"bufio"
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// bufferSize is each stream's bufio.Writer size: a few frames.
const bufferSize = 512

// bufferedStreams: the handler writes each frame, under its stream's
// lease, into a bufio.Writer over env.Sink.Stream(i); a full buffer
// reaches the Sink inside the handler, under the lease. The recording-
// ended hook must flush what the buffers still hold. A failed write
// resets the buffer (a bufio.Writer keeps its first error for good), which
// drops what it held. See FlushOnTimerAfterHook.
type bufferedStreams struct {
	control
	mu   sync.Mutex
	bufs []*bufio.Writer
	// timers are the deferred flushes not yet run, stopped by Close.
	timers []*time.Timer
}

// flushLocked flushes every buffer, resetting one whose write failed.
func (b *bufferedStreams) flushLocked() {
	for i, w := range b.bufs {
		if err := w.Flush(); err != nil {
			w.Reset(b.c.sink.Stream(i))
		}
	}
}

func newBufferedStreams(env *properties.Env, hook func(b *bufferedStreams) endedHook) (*bufferedStreams, error) {
	b := &bufferedStreams{}
	c, err := newCall(env, func(ctx context.Context, t fsm.Trigger) error { return hook(b)(ctx, t) }, nil)
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	for i := range c.streams {
		b.bufs = append(b.bufs, bufio.NewWriterSize(c.sink.Stream(i), bufferSize))
	}
	return b, nil
}

// Frame buffers the frame under the stream's lease.
func (b *bufferedStreams) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	defer b.mu.Unlock()
	w := b.bufs[stream]
	if w.Available() < len(payload) {
		if err := w.Flush(); err != nil {
			w.Reset(b.c.sink.Stream(stream))
			return err
		}
	}
	if _, err := w.Write(payload); err != nil {
		w.Reset(b.c.sink.Stream(stream))
		return err
	}
	return nil
}

// Close flushes nothing more: a deferred flush not yet run is stopped.
func (b *bufferedStreams) Close(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.timers {
		t.Stop()
	}
	b.timers = nil
	return nil
}

// newFlushOnTimerAfterHook: the hook leaves the flush to time.AfterFunc
// ("the hook runs under the machine's lock; do no I/O there"). See
// FlushOnTimerAfterHook.
func newFlushOnTimerAfterHook(env *properties.Env) (properties.Bot, error) {
	return newBufferedStreams(env, func(b *bufferedStreams) endedHook {
		return func(context.Context, fsm.Trigger) error {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.timers = append(b.timers, time.AfterFunc(time.Millisecond, func() {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.flushLocked()
			}))
			return nil
		}
	})
}

// framesPerSegment is how many frames make a segment.
const framesPerSegment = 8

// segment is one stream's frames not yet uploaded.
type segment struct {
	stream int
	data   []byte
	frames int
}

// segmentUploader: the handler appends each frame, under its stream's
// lease, to the stream's segment, and uploads a full segment to the Sink
// right there, under the lease. The recording-ended hook hands the
// segments still open to an uploader goroutine and returns ("uploads take
// seconds; the webhook must not wait"). See SegmentUploadAfterHook.
type segmentUploader struct {
	control
	mu      sync.Mutex
	open    []*segment
	uploads sync.WaitGroup
}

func newSegmentUploadAfterHook(env *properties.Env) (properties.Bot, error) {
	b := &segmentUploader{}
	c, err := newCall(env, func(context.Context, fsm.Trigger) error {
		b.mu.Lock()
		segs := b.open
		b.open = make([]*segment, len(segs))
		b.mu.Unlock()
		b.uploads.Go(func() { b.upload(segs) })
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	b.open = make([]*segment, len(c.streams))
	return b, nil
}

// upload writes every non-empty segment to the Sink; a failed upload is
// tried once more.
func (b *segmentUploader) upload(segs []*segment) {
	for _, s := range segs {
		if s == nil || s.frames == 0 {
			continue
		}
		if _, err := b.c.sink.Write(s.stream, s.data); err != nil {
			_, _ = b.c.sink.Write(s.stream, s.data)
		}
	}
}

// Frame adds the frame to its stream's segment under the lease, and
// uploads the segment there once it is full.
func (b *segmentUploader) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	s := b.open[stream]
	if s == nil {
		s = &segment{stream: stream}
		b.open[stream] = s
	}
	s.data = append(s.data, payload...)
	s.frames++
	full := s.frames >= framesPerSegment
	if full {
		b.open[stream] = nil
	}
	b.mu.Unlock()
	if full {
		b.upload([]*segment{s})
	}
	return nil
}

// Close waits for the uploads.
func (b *segmentUploader) Close(context.Context) error { b.uploads.Wait(); return nil }
