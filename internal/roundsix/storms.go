package roundsix

import (
	"context"
	"sync"
	"time"

	"github.com/recgate/recgate/properties"
)

// stopDebounce is how soon after a Start a Stop is ignored by
// NewDebouncedStop.
const stopDebounce = 50 * time.Millisecond

// NewDebouncedStop builds a bot that ignores a Stop (or Fail) that comes
// within 50 ms of the last Start, and returns nil for it: the recording
// goes on, frames keep being persisted under leases, and Graph is never
// told.
//
// Why a team does it: the meeting UI's record button bounced (a double
// click sent Start then Stop), and the fix was made in the bot: "a Stop
// this soon after a Start is a bounce". A real Stop, from a participant
// who withdrew consent right after the bot asked, is dropped too.
func NewDebouncedStop(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &debouncedStopBot{fsmBot: base}, nil
}

type debouncedStopBot struct {
	*fsmBot
	mu      sync.Mutex
	started time.Time
}

func (b *debouncedStopBot) Start(ctx context.Context) error {
	b.mu.Lock()
	b.started = time.Now()
	b.mu.Unlock()
	_, err := b.m.Start(ctx)
	return err
}

func (b *debouncedStopBot) bounce() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.started.IsZero() && time.Since(b.started) < stopDebounce
}

func (b *debouncedStopBot) Stop(ctx context.Context) error {
	if b.bounce() {
		return nil
	}
	return b.m.Stop(ctx)
}

func (b *debouncedStopBot) Fail(ctx context.Context) error {
	if b.bounce() {
		return nil
	}
	return b.m.Fail(ctx)
}

// NewCoalescedStartStop builds a bot that coalesces a Stop that arrives
// while its Start waits for Graph: Stop only notes "stop after start" and
// returns nil at once; Start, once Graph answered, runs the machine's Stop
// itself. If Graph said completed, the gate is open from then until that
// Stop closes it, and frames arriving in between are persisted although
// the bot had been asked to stop before the recording began.
//
// Why a team does it: the machine's Stop during a Start in flight waits
// for the machine (or supersedes the attempt), and the team wanted the
// control webhook never to block; "the Start will see the flag" reads as
// the same thing, later.
func NewCoalescedStartStop(env *properties.Env) (properties.Bot, error) {
	base, err := newFSMBot(env, nil)
	if err != nil {
		return nil, err
	}
	return &coalescedBot{fsmBot: base}, nil
}

type coalescedBot struct {
	*fsmBot
	mu       sync.Mutex
	starting int
	deferred string // "", "stop" or "fail"
}

func (b *coalescedBot) Start(ctx context.Context) error {
	b.mu.Lock()
	b.starting++
	b.mu.Unlock()
	_, err := b.m.Start(ctx)
	b.mu.Lock()
	b.starting--
	what := b.deferred
	if b.starting == 0 {
		b.deferred = ""
	}
	b.mu.Unlock()
	switch what {
	case "stop":
		return b.m.Stop(ctx)
	case "fail":
		return b.m.Fail(ctx)
	}
	return err
}

// coalesce reports whether a Start is in flight, and then notes what to
// do after it.
func (b *coalescedBot) coalesce(what string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.starting == 0 {
		return false
	}
	b.deferred = what
	return true
}

func (b *coalescedBot) Stop(ctx context.Context) error {
	if b.coalesce("stop") {
		return nil
	}
	return b.m.Stop(ctx)
}

func (b *coalescedBot) Fail(ctx context.Context) error {
	if b.coalesce("fail") {
		return nil
	}
	return b.m.Fail(ctx)
}
