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

// The machine's lock is a sync.Mutex that a waiter can give up on. The
// uncontended path is one TryLock, as cheap as Lock. Under contention, a
// helper goroutine waits in Lock on the caller's behalf, and hands the lock
// over through an unbuffered channel: either the caller takes it (the send
// completes only when the caller receives), or the caller's context ended
// first and the helper lets the lock go as soon as it gets it. So a Stop
// behind a hung Graph request returns when its context ends, and the lock
// is never lost nor held by nobody.

// lock takes the machine's lock for trigger t, or gives up when ctx ends
// first and returns an error wrapping ErrMachineBusy and ctx's error. Under
// a checker, the checker's scheduler decides when the lock is granted (and
// the mutex is then always free), so ctx plays no part there.
func (m *Machine) lock(ctx context.Context, t Trigger) error {
	if h := m.cfg.checker; h != nil {
		h.Yield(hooks.Lock)
		h.Lock()
		m.mu.Lock()
		return nil
	}
	if m.mu.TryLock() {
		return nil
	}
	done := ctx.Done()
	if done == nil {
		m.mu.Lock()
		return nil
	}
	handOver, gaveUp := make(chan struct{}), make(chan struct{})
	go func() {
		m.mu.Lock()
		select {
		case handOver <- struct{}{}:
		case <-gaveUp:
			m.mu.Unlock()
		}
	}()
	select {
	case <-handOver:
		return nil
	case <-done:
		close(gaveUp)
		return fmt.Errorf("%w: %s gave up waiting for it (another transition, probably a Graph request in flight, holds it): %w; %s",
			ErrMachineBusy, t, ctx.Err(), gaveUpLeft(t))
	}
}

// gaveUpLeft says what a transition that could not get the lock left behind.
func gaveUpLeft(t Trigger) string {
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
	m.mu.Unlock()
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
