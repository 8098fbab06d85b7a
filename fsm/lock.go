package fsm

import (
	"context"
	"errors"
	"fmt"

	"github.com/recgate/recgate/internal/hooks"
)

// ErrMachineBusy matches the error a transition returns when its context
// ended while it waited for another transition to finish (typically a Start
// or Stop whose Graph request is still in flight). The error also matches
// the context's own error (context.DeadlineExceeded or context.Canceled).
// Nothing was sent by the transition that gave up.
var ErrMachineBusy = errors.New("fsm: the machine is busy with another transition")

// The machine's lock is a channel with room for one token: holding the lock
// is having put the token in. Unlike sync.Mutex, waiting for it can end with
// the caller's context, so a Stop behind a hung Graph request returns
// instead of waiting for ever. Uncontended, taking it is one non-blocking
// channel send, a few nanoseconds more than a mutex.

// lock takes the machine's lock for trigger t, or gives up when ctx ends
// first and returns an error wrapping ErrMachineBusy and ctx's error. Under
// a checker, the checker's scheduler decides when the lock is granted (and
// the channel is then always free), so ctx plays no part there.
func (m *Machine) lock(ctx context.Context, t Trigger) error {
	if h := m.cfg.checker; h != nil {
		h.Yield(hooks.Lock)
		h.Lock()
		m.sem <- struct{}{}
		return nil
	}
	select {
	case m.sem <- struct{}{}:
		return nil
	default:
	}
	done := ctx.Done()
	if done == nil {
		m.sem <- struct{}{}
		return nil
	}
	select {
	case m.sem <- struct{}{}:
		return nil
	case <-done:
		return fmt.Errorf("%w: %s gave up waiting for it (another transition, probably a Graph request in flight, holds it): %w; %s",
			ErrMachineBusy, t, ctx.Err(), gaveUp(t))
	}
}

// gaveUp says what a transition that could not get the lock left behind.
func gaveUp(t Trigger) string {
	switch t {
	case Stop, Fail:
		return "the gate is closed and nothing was reported; call " + t.String() + " again to report"
	case CallEnded:
		return "the gate is closed for good; the machine moves to Ended as soon as the other transition returns"
	}
	return "nothing was sent and nothing changed"
}

// unlock lets the lock go.
func (m *Machine) unlock() {
	<-m.sem
	if h := m.cfg.checker; h != nil {
		h.Unlock()
	}
}

// yield pauses at p under a checker, and does nothing otherwise.
func (m *Machine) yield(p hooks.Point) {
	if h := m.cfg.checker; h != nil {
		h.Yield(p)
	}
}

// mutant reports whether seeded bug b is switched on (tests only).
func (m *Machine) mutant(b hooks.Mutant) bool {
	return m.cfg.checker != nil && m.cfg.checker.Mutants.Has(b)
}
