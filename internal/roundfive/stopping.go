package roundfive

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// NewAsyncStop builds the bot whose Stop and Fail return before the
// machine has even closed the gate.
//
// The mistake: Stop arrives on the meeting's webhook, which must answer
// within seconds, and the report to Graph can take longer (throttling);
// so the handler runs the machine's Stop on a goroutine and answers at
// once. The gate closes only when that goroutine gets to run: frames
// that arrive after the bot was asked to stop, and before it did, are
// persisted.
func NewAsyncStop(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &asyncStop{fsmBot: b}, nil
}

type asyncStop struct {
	*fsmBot
	wg sync.WaitGroup
}

func (b *asyncStop) later(fn func(context.Context) error) error {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_ = fn(context.Background())
	}()
	return nil
}

func (b *asyncStop) Stop(context.Context) error { return b.later(b.m.Stop) }
func (b *asyncStop) Fail(context.Context) error { return b.later(b.m.Fail) }

// Close waits for the Stops still under way.
func (b *asyncStop) Close(context.Context) error { b.wg.Wait(); return nil }

// resumeAfterFail is the bot that starts recording again by itself on the
// first frame after its recording failed, once; keep says whether it
// persists that first frame too.
type resumeAfterFail struct {
	*fsmBot
	keep  bool
	mu    sync.Mutex
	armed bool // Fail succeeded and no Start was tried since
}

// NewResumeOnFrame builds the bot that resumes a failed recording on the
// next frame and keeps that frame.
//
// The mistake: a recording that failed (the bot's storage hiccupped and
// it reported failed) is resumed by the bot itself when media next
// arrives, which is allowed: it asks Graph again and waits for completed.
// But "the resumed recording must not lose the frame that woke it": the
// handler writes that frame once Start returns, and it arrived before
// Graph's completed.
func NewResumeOnFrame(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &resumeAfterFail{fsmBot: b, keep: true}, nil
}

// NewResumeOnceAfterFail builds the correct variant: it resumes once
// after Fail, on the next frame, and drops the frame that woke it; a Start
// of anyone's that Graph refused ends the resuming.
//
// Why it keeps the rule: the resumed recording asks Graph and persists
// only once Graph said completed, and only media that arrived after it
// (the suite lets a bot record on its own: P9 and P7's intervals end at a
// new recording request, whoever asked for it); after a refusal it sends
// nothing until the bot is asked to Start again (P3).
func NewResumeOnceAfterFail(env *properties.Env) (properties.Bot, error) {
	b, err := newFSMBot(callOf(env), nil)
	if err != nil {
		return nil, err
	}
	return &resumeAfterFail{fsmBot: b}, nil
}

func (b *resumeAfterFail) Start(ctx context.Context) error {
	b.mu.Lock()
	b.armed = false
	b.mu.Unlock()
	return b.fsmBot.Start(ctx)
}

func (b *resumeAfterFail) Fail(ctx context.Context) error {
	err := b.fsmBot.Fail(ctx)
	if err == nil && b.m.State() == fsm.Failed {
		b.mu.Lock()
		b.armed = true
		b.mu.Unlock()
	}
	return err
}

func (b *resumeAfterFail) Frame(ctx context.Context, stream int, payload []byte) error {
	b.mu.Lock()
	resume := b.armed && b.m.State() == fsm.Failed
	if resume {
		b.armed = false
	}
	b.mu.Unlock()
	if !resume {
		return b.fsmBot.Frame(ctx, stream, payload)
	}
	if _, err := b.m.Start(ctx); err != nil {
		return err
	}
	if !b.keep {
		return errDropped // it arrived before Graph's completed
	}
	return b.fsmBot.Frame(ctx, stream, payload)
}

// NewObserverFlagNoLease builds the bot that mirrors the gate from fsm's
// observer into a flag and writes without a lease.
//
// The mistake: WithObserver reports every gate move, in order; the team
// mirrored it into an atomic flag and dropped the lease per frame as
// redundant overhead ("we already know whether the gate is open"). A
// write that read the flag just before a Stop closed the gate is not
// waited for: nothing tells the machine it is in progress, so Stop
// flushes and reports while it lands.
func NewObserverFlagNoLease(env *properties.Env) (properties.Bot, error) {
	c := callOf(env)
	b := &observerFlag{c: c}
	m, err := fsm.New(c.id, c.updater, fsm.WithRecordingEndedHook(flushHook(c.sink)),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate {
				b.open.Store(e.Open)
				if e.Open {
					c.gateOpened()
				}
			}
		}))
	if err != nil {
		return nil, err
	}
	b.fsmBot = &fsmBot{c: c, m: m}
	return b, nil
}

type observerFlag struct {
	*fsmBot
	c    call
	open atomic.Bool
}

func (b *observerFlag) Frame(_ context.Context, stream int, payload []byte) error {
	if stream < 0 || stream >= b.c.streams {
		return errNoStream
	}
	if !b.open.Load() {
		return errDropped
	}
	_, err := b.c.sink.Write(stream, payload)
	return err
}

// NewAsyncStopSilent builds AsyncStop as a team that implements only
// properties.Bot would hand it to the suite: no GateReporter, no Closer.
// It is the same bug, judged on bytes alone.
func NewAsyncStopSilent(env *properties.Env) (properties.Bot, error) {
	b, err := NewAsyncStop(env)
	if err != nil {
		return nil, err
	}
	return botOnly{b}, nil
}

// botOnly hides every optional interface of the bot it wraps.
type botOnly struct{ properties.Bot }
