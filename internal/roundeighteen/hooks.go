package roundeighteen

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// hookWait is how long HookWaitsWithTimeout's hook waits for its
// writers before it returns anyway ("a few milliseconds is plenty for a
// frame"). A 50 ms wait was measured too: see doc.go.
const hookWait = 5 * time.Millisecond

// admitQueue: the handler admits the frame under its stream's lease,
// counts it in the writers' pending group, queues it and releases the
// lease; the stream's writer writes it without a lease. Only frames of a
// confirmed recording are queued; what the recording-ended hook does
// about the queued ones (wait for pending, for a while, or not on Fail)
// is where the bots differ. See HookWaitsWithTimeout, FailSkipsDrain and
// the correct HookWaitsForWriters.
type admitQueue struct {
	control
	*streamWriters
}

// drained returns what the hook waits on: a channel closed once every
// counted frame was written.
func (b *admitQueue) drained() <-chan struct{} { return b.pending.drained() }

func newAdmitQueue(env *properties.Env, hook func(b *admitQueue) endedHook) (*admitQueue, error) {
	return newAdmitQueueDone(env, hook, false)
}

// newAdmitQueueDone is newAdmitQueue; doneAtDequeue makes the writers
// mark a frame done before they write it.
func newAdmitQueueDone(env *properties.Env, hook func(b *admitQueue) endedHook, doneAtDequeue bool) (*admitQueue, error) {
	b := &admitQueue{}
	c, err := newCall(env, func(ctx context.Context, t fsm.Trigger) error {
		return hook(b)(ctx, t)
	}, nil)
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	b.streamWriters = newStreamWritersDone(len(c.streams), func(j job) {
		_, _ = c.sink.Write(j.stream, j.payload)
	}, doneAtDequeue)
	return b, nil
}

// Frame admits the frame under a lease, counts and queues it, and
// releases the lease.
func (b *admitQueue) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	return b.send(job{stream: stream, payload: copyOf(payload)})
}

// newHookWaitsWithTimeout: the hook waits for the writers, but at most
// hookWait, then returns anyway. See HookWaitsWithTimeout.
func newHookWaitsWithTimeout(env *properties.Env) (properties.Bot, error) {
	return newHookWaitsAtMost(env, hookWait)
}

// newHookWaitsAtMost: the hook waits for the writers, but at most limit.
func newHookWaitsAtMost(env *properties.Env, limit time.Duration) (properties.Bot, error) {
	return newAdmitQueue(env, func(b *admitQueue) endedHook {
		return func(context.Context, fsm.Trigger) error {
			select {
			case <-b.drained():
			case <-time.After(limit): // "storage is slow; don't hold the webhook"
			}
			return nil
		}
	})
}

// newFailSkipsDrain: the hook waits for the writers on Stop and
// CallEnded, not on Fail. See FailSkipsDrain.
func newFailSkipsDrain(env *properties.Env) (properties.Bot, error) {
	return newAdmitQueue(env, func(b *admitQueue) endedHook {
		return func(_ context.Context, t fsm.Trigger) error {
			if t == fsm.Fail {
				return nil // "the recording failed: nothing left worth waiting for"
			}
			<-b.drained()
			return nil
		}
	})
}

// newHookWaitsForWriters: the hook waits until every admitted frame was
// written, whatever ended the recording. See the correct
// HookWaitsForWriters.
func newHookWaitsForWriters(env *properties.Env) (properties.Bot, error) {
	return newAdmitQueue(env, func(b *admitQueue) endedHook {
		return func(context.Context, fsm.Trigger) error {
			b.pending.wait()
			return nil
		}
	})
}

// newDoneBeforeWrite: the hook waits for the count, but the writers mark
// a frame done when they take it off the queue. See DoneBeforeWrite.
func newDoneBeforeWrite(env *properties.Env) (properties.Bot, error) {
	return newAdmitQueueDone(env, func(b *admitQueue) endedHook {
		return func(context.Context, fsm.Trigger) error {
			b.pending.wait()
			return nil
		}
	}, true)
}

// swappedGroup: each recording counts its frames on a WaitGroup of its
// own; the Stop (and Fail) handler puts a fresh one in place for the next
// recording before it calls the machine, and the hook waits on the one in
// place, the fresh one. See HookWaitsOnSwappedGroup.
type swappedGroup struct {
	control
	w  *streamWriters
	mu sync.Mutex
	wg *sync.WaitGroup
}

func newSwappedGroup(env *properties.Env) (properties.Bot, error) {
	b := &swappedGroup{wg: new(sync.WaitGroup)}
	c, err := newCall(env, func(context.Context, fsm.Trigger) error {
		b.current().Wait()
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	b.w = newStreamWriters(len(c.streams), func(j job) {
		_, _ = c.sink.Write(j.stream, j.payload)
		j.counted.Done()
	})
	return b, nil
}

func (b *swappedGroup) current() *sync.WaitGroup {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.wg
}

// fresh puts a new WaitGroup in place ("the next recording counts on its
// own").
func (b *swappedGroup) fresh() {
	b.mu.Lock()
	b.wg = new(sync.WaitGroup)
	b.mu.Unlock()
}

// Frame admits the frame under a lease, counts it on the recording's
// group, queues it and releases the lease.
func (b *swappedGroup) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	wg := b.current()
	wg.Add(1)
	if err := b.w.send(job{stream: stream, payload: copyOf(payload), counted: wg}); err != nil {
		wg.Done()
		return err
	}
	return nil
}

// Stop swaps the group, then stops.
func (b *swappedGroup) Stop(ctx context.Context) error { b.fresh(); return b.c.m.Stop(ctx) }

// Fail swaps the group, then fails.
func (b *swappedGroup) Fail(ctx context.Context) error { b.fresh(); return b.c.m.Fail(ctx) }

// Close stops the writers.
func (b *swappedGroup) Close(ctx context.Context) error { return b.w.Close(ctx) }

// recordingWorkers is one recording's worker set: its queues, its
// context, and the WaitGroup of its goroutines.
type recordingWorkers struct {
	ctx    context.Context
	cancel context.CancelFunc
	qs     []chan job
	wg     sync.WaitGroup
}

// perRecording starts a worker per stream each time the gate opens, on a
// context the recording-ended hook cancels. A worker leaves when the
// context is cancelled, finishing the frame in hand. Whether the hook
// waits for them is where CancelsAndReturns and the correct
// CancelledPoolWaits differ.
type perRecording struct {
	control
	mu  sync.Mutex
	rec *recordingWorkers
	all sync.WaitGroup // every worker of every recording, for Close
}

func newPerRecording(env *properties.Env, waits bool) (properties.Bot, error) {
	b := &perRecording{}
	c, err := newCall(env, func(context.Context, fsm.Trigger) error {
		b.mu.Lock()
		rec := b.rec
		b.rec = nil
		b.mu.Unlock()
		if rec == nil {
			return nil
		}
		rec.cancel()
		if waits {
			rec.wg.Wait()
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	b.control = control{c}
	c.onGate = func(open bool) {
		if open {
			b.startRecording()
		}
	}
	return b, nil
}

// startRecording starts the recording's workers.
func (b *perRecording) startRecording() {
	ctx, cancel := context.WithCancel(context.Background())
	rec := &recordingWorkers{ctx: ctx, cancel: cancel}
	for range b.c.streams {
		q := make(chan job, queueDepth)
		rec.qs = append(rec.qs, q)
		rec.wg.Add(1)
		b.all.Add(1)
		go func() {
			defer b.all.Done()
			defer rec.wg.Done()
			for {
				select {
				case <-ctx.Done():
					return // what is still queued is dropped
				case j := <-q:
					_, _ = b.c.sink.Write(j.stream, j.payload)
				}
			}
		}()
	}
	b.mu.Lock()
	old := b.rec
	b.rec = rec
	b.mu.Unlock()
	if old != nil {
		old.cancel()
	}
}

// Frame admits the frame under a lease, queues it on the recording's
// worker and releases the lease.
func (b *perRecording) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.c.admit(stream)
	if err != nil {
		return err
	}
	defer lease.Release()
	b.mu.Lock()
	rec := b.rec
	b.mu.Unlock()
	if rec == nil {
		return errClosed
	}
	select {
	case rec.qs[stream] <- job{stream: stream, payload: copyOf(payload)}:
		return nil
	default:
		return errFull
	}
}

// Close cancels the last recording's workers and waits for all.
func (b *perRecording) Close(context.Context) error {
	b.mu.Lock()
	if b.rec != nil {
		b.rec.cancel()
	}
	b.mu.Unlock()
	b.all.Wait()
	return nil
}

func newCancelsAndReturns(env *properties.Env) (properties.Bot, error) {
	return newPerRecording(env, false)
}

func newCancelledPoolWaits(env *properties.Env) (properties.Bot, error) {
	return newPerRecording(env, true)
}
