package roundfour

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/properties"
)

// Bots whose mistake lives in time: timers, tickers, waiting.

// debounceDelay is how long the debounced writers wait after the last
// frame before they write a batch: a typical "cut storage calls" setting.
const debounceDelay = 300 * time.Millisecond

// batchLimit is the batch size the debounced writers write at once, from
// the frame that fills it, under that frame's lease.
const batchLimit = 96

// debounced batches each stream's frames, admitted under a lease, in a
// batcher per recording: a full batch (batchLimit) is written at once, the
// rest once no frame came for debounceDelay.
type debounced struct {
	*fsmBot
	// rightly is the correct variant: the timer writes under a lease of
	// its own, and the hook stops it and writes what is left.
	rightly bool
	flusher []*fsm.Stream // rightly: the timers' own lease holders

	mu  sync.Mutex
	cur *batcher
}

// batcher is one recording's batches and their debounce timer.
type batcher struct {
	owner *debounced
	mu    sync.Mutex
	buf   [][]byte
	timer *time.Timer
}

func newDebounced(c call, rightly bool) (*debounced, error) {
	b := &debounced{rightly: rightly}
	hook := sinkFlushHook(c.sink)
	if rightly {
		hook = b.recordingEnded
	}
	fb, err := newFSMBot(c, hook, nil)
	if err != nil {
		return nil, err
	}
	b.fsmBot = fb
	for i := 0; i < c.streams; i++ {
		b.flusher = append(b.flusher, fb.m.Gate().NewStream())
	}
	b.cur = &batcher{owner: b, buf: make([][]byte, c.streams)}
	return b, nil
}

// NewDebouncedFlush builds the debounced writer whose hook forgets it.
//
// The mistake: storage is billed per call, so the team batches frames: a
// full batch is written at once, and what is left 300 ms after the last
// frame (a debounce). Each recording gets a batcher of its own, made by
// Start, and frames are admitted under a lease, so "nothing outside the
// recording gets in". The recording-ended hook flushes storage, but the
// debounce timer still holds the recording's last batch, which is written
// 300 ms after notRecording was sent (R2). A team with a Close that
// flushed the batchers would be caught at the end of the case; this one
// has none.
func NewDebouncedFlush(env *properties.Env) (properties.Bot, error) {
	return newDebounced(callOf(env), false)
}

// NewDebouncedFlushDoneRight builds the debounced writer done right: the
// timer writes under a lease, and the hook stops the timer and writes the
// last batches before it flushes.
func NewDebouncedFlushDoneRight(env *properties.Env) (properties.Bot, error) {
	return newDebounced(callOf(env), true)
}

func (b *debounced) current() *batcher {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// Start gives the new recording a batcher of its own (the buggy variant:
// the old one's timer writes what it still holds). The correct variant
// keeps one batcher: its hook empties it at the end of every recording,
// and a Start while recording (a reconnect) must not set aside frames
// the hook would then never write. A first version replaced it there too,
// and the suite caught that version's timer writing a frame of one
// recording in the next (P7) once it watched writes after a case ended.
func (b *debounced) Start(ctx context.Context) error {
	if !b.rightly {
		b.mu.Lock()
		b.cur = &batcher{owner: b, buf: make([][]byte, b.c.streams)}
		b.mu.Unlock()
	}
	return b.fsmBot.Start(ctx)
}

func (b *debounced) Frame(_ context.Context, stream int, payload []byte) error {
	s, err := b.stream(stream)
	if err != nil {
		return err
	}
	lease, err := s.Acquire()
	if err != nil {
		return err
	}
	defer lease.Release()
	return b.current().add(stream, payload)
}

func (t *batcher) add(stream int, payload []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf[stream] = append(t.buf[stream], payload...)
	if len(t.buf[stream]) >= batchLimit {
		p := t.buf[stream]
		t.buf[stream] = nil
		_, err := t.owner.c.sink.Write(stream, p)
		return err
	}
	if t.timer == nil {
		t.timer = time.AfterFunc(debounceDelay, t.fired)
	} else {
		t.timer.Reset(debounceDelay)
	}
	return nil
}

// fired writes every batch.
func (t *batcher) fired() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timer = nil
	b := t.owner
	for i, p := range t.buf {
		if len(p) == 0 {
			continue
		}
		if b.rightly {
			lease, err := b.flusher[i].Acquire()
			if err != nil {
				continue // the recording is ending: the hook writes it
			}
			_, _ = b.c.sink.Write(i, p)
			lease.Release()
		} else {
			// "These frames were admitted under a lease: no need for
			// another."
			_, _ = b.c.sink.Write(i, p)
		}
		t.buf[i] = nil
	}
}

// recordingEnded (rightly) stops the timer and writes what is left.
func (b *debounced) recordingEnded(context.Context, fsm.Trigger) error {
	t := b.current()
	t.mu.Lock()
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	for i, p := range t.buf {
		if len(p) > 0 {
			if _, err := b.c.sink.Write(i, p); err != nil {
				t.mu.Unlock()
				return err
			}
		}
		t.buf[i] = nil
	}
	t.mu.Unlock()
	return b.c.sink.Flush()
}

// fallbackDelay is how long the PendingFallback bot waits for Graph's
// notification before it assumes the recording was confirmed.
const fallbackDelay = 200 * time.Millisecond

// pendingFallback takes a pending attempt as confirmed when Graph's
// notification is late.
type pendingFallback struct {
	*fsmBot
}

// NewPendingFallback builds the bot that confirms a pending attempt by
// itself.
//
// The mistake: in production some notifications for a running operation
// never reached the callback (a redeploy, a firewall), and compliance
// policy calls then went unrecorded, which the policy also forbids. So
// the team "completes" a pending attempt itself after 200 ms: it feeds the
// machine a completed update built from Graph's own running reply (same
// clientContext, same operation id), which fsm accepts as a caller's
// update. The gate opens without Graph's completed (R1).
func NewPendingFallback(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(callOf(env), sinkFlushHook(env.Sink), nil)
	if err != nil {
		return nil, err
	}
	return &pendingFallback{fsmBot: fb}, nil
}

func (b *pendingFallback) Start(ctx context.Context) error {
	op, err := b.m.Start(ctx)
	if err != nil || b.m.State() != fsm.AwaitingConfirmation {
		return err
	}
	time.AfterFunc(fallbackDelay, func() {
		if b.m.State() != fsm.AwaitingConfirmation {
			return // Graph's notification came after all
		}
		assumed := op
		assumed.Status = graph.OperationCompleted
		_ = b.m.OperationUpdate(context.Background(), assumed)
	})
	return nil
}

// sampleEvery is how often the SampledStateFlag bot refreshes its flag.
const sampleEvery = time.Millisecond

// sampledFlag writes a frame whenever a flag, sampled from the machine's
// state by a ticker, says recording.
type sampledFlag struct {
	*fsmBot
	recording atomic.Bool
	sampling  atomic.Bool
	active    atomic.Int64 // events since the sampler last looked
	quit      chan struct{}
	wg        sync.WaitGroup
}

// NewSampledStateFlag builds the bot with the sampled flag.
//
// The mistake: a lease per frame looked expensive at 50 frames a second on
// a hundred streams, so the team caches "is the machine Recording?" in an
// atomic flag that a ticker refreshes every millisecond, and writes
// straight to storage when it is set. After Stop returns the flag says
// recording for up to a millisecond more: frames that arrive then are
// written after notRecording (R2), and frames that arrive while Stop
// drains are written too. (The sampler stops after 20 idle ticks and
// starts again at the next event, so a call without traffic costs
// nothing.)
func NewSampledStateFlag(env *properties.Env) (properties.Bot, error) {
	fb, err := newFSMBot(callOf(env), sinkFlushHook(env.Sink), nil)
	if err != nil {
		return nil, err
	}
	return &sampledFlag{fsmBot: fb, quit: make(chan struct{})}, nil
}

// wake starts the sampler if it is not running.
func (b *sampledFlag) wake() {
	b.active.Add(1)
	if b.sampling.CompareAndSwap(false, true) {
		b.recording.Store(b.m.State() == fsm.Recording)
		b.wg.Add(1)
		go b.sample()
	}
}

func (b *sampledFlag) sample() {
	defer b.wg.Done()
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	idle := 0
	for {
		select {
		case <-b.quit:
			b.sampling.Store(false)
			return
		case <-t.C:
		}
		b.recording.Store(b.m.State() == fsm.Recording)
		if b.active.Swap(0) == 0 {
			if idle++; idle >= 20 {
				b.sampling.Store(false)
				return
			}
		} else {
			idle = 0
		}
	}
}

func (b *sampledFlag) Start(ctx context.Context) error {
	b.wake()
	return b.fsmBot.Start(ctx)
}

func (b *sampledFlag) Stop(ctx context.Context) error {
	b.wake()
	return b.fsmBot.Stop(ctx)
}

func (b *sampledFlag) OperationUpdate(ctx context.Context, op graph.Operation) error {
	b.wake()
	return b.fsmBot.OperationUpdate(ctx, op)
}

func (b *sampledFlag) Frame(_ context.Context, stream int, payload []byte) error {
	b.wake()
	if !b.recording.Load() {
		return errDropped
	}
	_, err := b.c.sink.Write(stream, payload)
	return err
}

// Close stops the sampler.
func (b *sampledFlag) Close(context.Context) error {
	select {
	case <-b.quit:
	default:
		close(b.quit)
	}
	b.wg.Wait()
	return nil
}
