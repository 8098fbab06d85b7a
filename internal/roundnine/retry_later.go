package roundnine

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// retryDelay is the backoff of the retry queues: about one frame's time.
const retryDelay = 5 * time.Millisecond

// retryQueue retries failed writes from a goroutine of its own after a
// backoff, outside the frame's lease: the media thread never waits for a
// storage outage. wait blocks until every queued retry is done.
type retryQueue struct {
	b  *base
	wg sync.WaitGroup
}

func (q *retryQueue) retryLater(stream int, p []byte) {
	frame := append([]byte(nil), p...)
	q.wg.Add(1)
	go func() {
		defer q.wg.Done()
		time.Sleep(retryDelay)
		if err := q.b.write(stream, frame); err != nil {
			quietLog.Warn("retry failed; frame dropped", "stream", stream, "err", err)
		}
	}()
}

func (q *retryQueue) wait() { q.wg.Wait() }

// NewRetryQueueDrainedByHook builds a correct bot that hands a failed
// write to a retry goroutine (a 5 ms backoff, then one more try) and
// releases the lease; the hook waits until every retry is done before it
// flushes the Sink, so every retry lands inside the recording it belongs
// to, before the report.
func NewRetryQueueDrainedByHook(env *properties.Env) (properties.Bot, error) {
	return newRetryQueueBot(env, true)
}

// NewRetryQueueNotDrained is NewRetryQueueDrainedByHook whose hook does
// not wait for the retries: "the retry queue is the storage SDK's
// business". A retry whose backoff outlasts the recording lands after
// notRecording, or in the next recording.
func NewRetryQueueNotDrained(env *properties.Env) (properties.Bot, error) {
	return newRetryQueueBot(env, false)
}

func newRetryQueueBot(env *properties.Env, hookWaits bool) (*retryQueueBot, error) {
	b := &retryQueueBot{hookWaits: hookWaits}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	b.q = &retryQueue{b: base}
	return b, nil
}

type retryQueueBot struct {
	*base
	q         *retryQueue
	hookWaits bool
}

func (b *retryQueueBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		if err := b.write(stream, p); err != nil {
			b.q.retryLater(stream, p)
		}
		return nil
	})
}

func (b *retryQueueBot) hook(context.Context, fsm.Trigger) error {
	if b.hookWaits {
		b.q.wait()
	}
	return b.sink.Flush()
}

// Close waits for the retries (the process's shutdown does).
func (b *retryQueueBot) Close(context.Context) error {
	b.q.wait()
	return nil
}

// NewPendingFlushedByHook builds a correct bot that keeps a frame whose
// write failed in a per-stream pending list and writes it, ahead of the
// stream's next frame, under that frame's lease; the hook writes what is
// still pending and forgets it before it flushes the Sink, so nothing
// pending crosses the end of its recording.
func NewPendingFlushedByHook(env *properties.Env) (properties.Bot, error) {
	return newPendingBot(env, true)
}

// NewPendingCarriedOver is NewPendingFlushedByHook whose hook only
// flushes the Sink: a frame still pending when the recording ends is
// written ahead of the stream's first frame of the next recording.
func NewPendingCarriedOver(env *properties.Env) (properties.Bot, error) {
	return newPendingBot(env, false)
}

func newPendingBot(env *properties.Env, hookWrites bool) (*pendingBot, error) {
	b := &pendingBot{hookWrites: hookWrites}
	base, err := newBase(env, b.hook, nil)
	if err != nil {
		return nil, err
	}
	b.base = base
	return b, nil
}

type pendingBot struct {
	*base
	hookWrites bool
	pending    frameLog
}

func (b *pendingBot) Frame(_ context.Context, stream int, p []byte) error {
	return b.underLease(stream, func() error {
		batch := append(joined(b.pending.takeStream(stream)), p...)
		if err := b.write(stream, batch); err != nil {
			b.pending.add(stream, batch) // next frame's lease tries again
		}
		return nil
	})
}

func (b *pendingBot) hook(context.Context, fsm.Trigger) error {
	if b.hookWrites {
		for stream, frames := range b.pending.take() {
			if err := b.write(stream, joined(frames)); err != nil {
				quietLog.Warn("pending frames dropped at the end of the recording", "stream", stream, "err", err)
			}
		}
	}
	return b.sink.Flush()
}
