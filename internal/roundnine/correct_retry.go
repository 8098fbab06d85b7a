package roundnine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// quietLog is where the bots log what they drop (a team logs it; the
// tests need not read it).
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// NewLogAndDrop builds the plainest bot: each frame written under its
// lease; a write storage fails is logged and the frame dropped.
func NewLogAndDrop(env *properties.Env) (properties.Bot, error) {
	b, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &logAndDropBot{b}, nil
}

type logAndDropBot struct{ *base }

func (b *logAndDropBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		if err := b.write(stream, p); err != nil {
			quietLog.Warn("frame dropped", "stream", stream, "err", err)
		}
		return nil
	})
}

// NewReturnsStorageError builds a bot whose Frame returns storage's error
// to its caller, as most handlers do: the media platform's callback logs
// it. The frame is dropped.
func NewReturnsStorageError(env *properties.Env) (properties.Bot, error) {
	b, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &returnsErrorBot{b}, nil
}

type returnsErrorBot struct{ *base }

func (b *returnsErrorBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		if err := b.write(stream, p); err != nil {
			return fmt.Errorf("roundnine: persisting frame on stream %d: %w", stream, err)
		}
		return nil
	})
}

// NewRetryWithBackoffUnderLease builds a bot that retries a write storage
// failed, up to three times with a short backoff (1, 2, 4 ms), while the
// frame's lease is still held, and drops the frame if every try fails. A
// Stop meanwhile waits in its drain for the retries.
func NewRetryWithBackoffUnderLease(env *properties.Env) (properties.Bot, error) {
	b, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &retryBackoffBot{b}, nil
}

type retryBackoffBot struct{ *base }

func (b *retryBackoffBot) Frame(ctx context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		delay := time.Millisecond
		for try := 0; ; try++ {
			err := b.write(stream, p)
			if err == nil || !errors.Is(err, properties.ErrStorageFault) || try == 3 {
				return err
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
			delay *= 2
		}
	})
}

// NewStopAndRestartOnError builds a bot that, when storage fails a
// frame's write, releases the lease, ends the recording (Stop: the hook
// flushes, notRecording is reported) and starts a new one (Start: a new
// recording request, which Graph must confirm before anything more is
// written): "a recording with a hole becomes two recordings".
func NewStopAndRestartOnError(env *properties.Env) (properties.Bot, error) {
	b, err := newBase(env, nil, nil)
	if err != nil {
		return nil, err
	}
	return &restartBot{base: b}, nil
}

type restartBot struct {
	*base
	restarting sync.Mutex // one restart at a time; frames meanwhile drop
}

func (b *restartBot) Frame(ctx context.Context, stream int, p []byte) error {
	var werr error
	err := b.underLease(stream, func() error {
		werr = b.write(stream, p)
		return nil
	})
	if err != nil || werr == nil || !b.restarting.TryLock() {
		return errors.Join(err, werr)
	}
	defer b.restarting.Unlock()
	if err := b.m.Stop(ctx); err != nil {
		return errors.Join(werr, err)
	}
	_, err = b.m.Start(ctx)
	return errors.Join(werr, err)
}

// NewSegmentRotateOnError builds a bot that writes each stream into
// segment files, each opened with a header line ("#segment k of stream
// i") on the first frame after the recording began, under that frame's
// lease. When storage fails a frame's write, the bot closes the segment,
// opens the next one (header first) and writes the frame there. The hook
// closes every segment; the next recording opens new ones. Segment k of
// stream i (k counts from 0 over the call) is Sink stream i+k*Streams, a
// file of its own.
func NewSegmentRotateOnError(env *properties.Env) (properties.Bot, error) {
	b := &segmentBot{open: make([]int, env.Streams), count: make([]int, env.Streams)}
	for i := range b.open {
		b.open[i] = -1
	}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

type segmentBot struct {
	*base
	mu    sync.Mutex
	open  []int // the Sink stream of each stream's open segment, -1 if none
	count []int // segments each stream opened so far
}

func (b *segmentBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		b.mu.Lock()
		seg := b.open[stream]
		b.mu.Unlock()
		if seg < 0 {
			var err error
			if seg, err = b.openSegment(stream); err != nil {
				return err
			}
		}
		err := b.write(seg, p)
		if err == nil {
			return nil
		}
		quietLog.Warn("segment failed; rotating", "segment", seg, "err", err)
		if seg, err = b.openSegment(stream); err != nil {
			return err
		}
		return b.write(seg, p)
	})
}

// openSegment closes stream i's segment, if one is open, opens the next
// and writes its header.
func (b *segmentBot) openSegment(i int) (int, error) {
	b.mu.Lock()
	k := b.count[i]
	b.count[i]++
	seg := i + k*len(b.open)
	b.open[i] = seg
	b.mu.Unlock()
	return seg, b.write(seg, fmt.Appendf(nil, "#segment %d of stream %d\n", k, i))
}

func (b *segmentBot) hook(context.Context, fsm.Trigger) error {
	b.mu.Lock()
	for i := range b.open {
		b.open[i] = -1
	}
	b.mu.Unlock()
	return b.sink.Flush()
}
