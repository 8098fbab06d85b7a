package roundfourteen

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/properties"
)

// The third team persists through a flag that follows fsm's gate instead
// of fsm's leases (round ten's flag bot): the frame handler looks at the
// flag and writes. Its recording-ended hook does not wait for handlers in
// flight: it sleeps "long enough for any write" before it flushes. Round
// ten's SleepDrain slept 20 ms, and the suite learnt to see through such
// a sleep for up to 100 ms (properties/settle.go maxSleepWait); this team
// sleeps longer, to be safe.

// longDrainSleep is the team's "long enough".
const longDrainSleep = 150 * time.Millisecond

// flagGate admits frames while the flag is set, counting handlers in
// flight.
type flagGate struct {
	mu       sync.Mutex // orders a handler's look at the flag with the close
	open     atomic.Bool
	inflight sync.WaitGroup
}

// follow is the machine observer that moves the flag with the gate.
func (g *flagGate) follow(e fsm.Event) {
	if e.Kind != fsm.EventGate {
		return
	}
	g.mu.Lock()
	g.open.Store(e.Open)
	g.mu.Unlock()
}

// enter reports whether a frame may be written now, and if so counts its
// handler in flight until leave.
func (g *flagGate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open.Load() {
		return false
	}
	g.inflight.Add(1)
	return true
}

func (g *flagGate) leave() { g.inflight.Done() }

// wait waits until every handler in flight has written, or ctx ends.
func (g *flagGate) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { g.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flagBot persists through a flagGate; fsm runs the control side.
type flagBot struct {
	*fsmBot
	g flagGate
}

func newFlagBot(env *properties.Env, drain func(ctx context.Context, g *flagGate) error) (*flagBot, error) {
	b := &flagBot{}
	base, err := newFSMBot(env, wiring{
		observer: b.g.follow,
		hook: func(ctx context.Context, _ fsm.Trigger) error {
			if err := drain(ctx, &b.g); err != nil {
				return err
			}
			return env.Sink.Flush()
		},
	})
	if err != nil {
		return nil, err
	}
	b.fsmBot = base
	return b, nil
}

// Frame writes payload if the flag is set, counted in flight meanwhile.
func (b *flagBot) Frame(_ context.Context, stream int, p []byte) error {
	if err := b.checkStream(stream); err != nil {
		return err
	}
	if !b.g.enter() {
		return errNotOpen
	}
	defer b.g.leave()
	_, err := b.sink.Write(stream, p)
	return err
}

// NewSleepDrainLong builds the flag bot whose hook sleeps longDrainSleep
// instead of waiting for the handlers in flight.
func NewSleepDrainLong(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(context.Context, *flagGate) error {
		time.Sleep(longDrainSleep)
		return nil
	})
}

// NewFlagDrainWaits builds the flag bot done right: the hook waits for
// every handler in flight.
func NewFlagDrainWaits(env *properties.Env) (properties.Bot, error) {
	return newFlagBot(env, func(ctx context.Context, g *flagGate) error { return g.wait(ctx) })
}
