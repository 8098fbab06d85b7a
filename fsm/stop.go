package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// Stop ends the recording and reports it: the gate closes at once, the
// machine waits for every held lease, runs the recording-ended hook, and
// only then sends notRecording. If that request fails the machine stays in
// Stopping with the gate closed and the error is returned; call Stop again
// to retry the report. If ctx ends while a writer still holds a lease, Stop
// returns ctx's error before anything is sent.
//
// If ctx ends while another transition holds the machine (a Start whose
// Graph request hangs, say), Stop returns an error matching ErrMachineBusy
// and ctx's error: the gate is closed by then, nothing was reported; call
// Stop again to report.
func (m *Machine) Stop(ctx context.Context) error {
	return m.stop(ctx, Stop, graph.StatusNotRecording)
}

// Fail is Stop for a recording that broke: same order, but the report is
// failed, and the machine ends in Failed.
func (m *Machine) Fail(ctx context.Context) error {
	return m.stop(ctx, Fail, graph.StatusFailed)
}

func (m *Machine) stop(ctx context.Context, t Trigger, status graph.Status) error {
	lateClose := m.mutant(hooks.StopClosesUnderLock)
	if !lateClose {
		m.closeGate(t) // first, at once: even a transition in flight cannot reopen it
	}
	m.yield(hooks.GateClosed)
	if err := m.lock(ctx, t); err != nil {
		return err
	}
	defer m.unlock()
	if lateClose {
		m.closeGate(t)
	}

	if !m.permitted(t) {
		return &TransitionError{State: m.State(), Trigger: t}
	}
	cc, err := m.nextClientContext()
	if err != nil {
		return fmt.Errorf("fsm: %s: %w", t, err)
	}
	// One firing serves both steps: leaving Recording (or
	// AwaitingConfirmation) for Stopping, which has no guard and sends
	// nothing, then the report from Stopping.
	f := m.begin(ctx, t)
	f.status, f.clientContext = status, cc
	hookLate := false
	switch m.State() {
	case Recording:
		// Rule R2: persistence ends before anything is reported.
		hookLate = m.mutant(hooks.HookAfterReport)
		if err := m.endPersistence(ctx, t, !hookLate); err != nil {
			return err
		}
		fallthrough
	case AwaitingConfirmation:
		m.clearPending()
		if err := m.fire(f); err != nil {
			return err
		}
	}
	err = m.fire(f)
	if hookLate {
		_ = m.runHook(ctx, t)
	}
	return err
}

// CallEnded ends the machine: the gate closes for good at once (even while
// another transition's Graph request is in flight, whose context is
// cancelled), then, once that transition is out of the way, the machine
// moves to Ended. If it was Recording it waits for the leases and runs the
// recording-ended hook first. No request is sent. Calling it again is a
// no-op.
//
// The call is over whatever ctx says, so once CallEnded has the machine,
// the wait for the leases and the hook run on a context that ctx's
// deadline and cancellation do not reach (its values are kept), and
// CallEnded returns when they are done, even after ctx's deadline: a
// termination notification, whose handler has a deadline of a few
// seconds, is then answered late, rather than the hook's flush or upload
// cut short, or the hook left unrun because a write was slow.
//
// If ctx ends while another transition holds the machine, CallEnded
// returns an error matching ErrMachineBusy and ctx's error. The gate is
// closed for good by then, and the other transition's request cancelled;
// the machine finishes the end by itself (in a goroutine of its own, hook
// included) as soon as that transition returns.
func (m *Machine) CallEnded(ctx context.Context) error {
	waits := m.mutant(hooks.CallEndedWaits)
	if !waits {
		m.endNow()
	}
	m.yield(hooks.GateClosed)
	if err := m.lock(ctx, CallEnded); err != nil {
		go m.finishEnd()
		return err
	}
	defer m.unlock()
	if waits {
		m.endNow()
	}
	// On the caller's goroutine, so that a caller (and the property
	// suite, which watches the bot's goroutines) sees the work as its own.
	return m.end(context.WithoutCancel(ctx))
}

// finishEnd completes a CallEnded that gave up waiting for the lock.
func (m *Machine) finishEnd() {
	ctx := context.Background()
	_ = m.lock(ctx, CallEnded) // a context that never ends: cannot fail
	defer m.unlock()
	if err := m.end(ctx); err != nil && m.cfg.logger != nil {
		m.log(ctx, slog.LevelWarn, "ending the call after CallEnded gave up waiting", "err", err)
	}
}

// end moves the machine to Ended, after the hook if it was Recording.
// Called with the lock held, the gate already closed for good.
func (m *Machine) end(ctx context.Context) error {
	m.clearPending()
	var hookErr error
	if m.State() == Recording {
		// The call is over whatever the bot's files say: end anyway, and
		// report the hook's error to the caller.
		hookErr = m.endPersistence(ctx, CallEnded, true)
	}
	if err := m.fire(m.begin(ctx, CallEnded)); err != nil {
		return errors.Join(err, hookErr)
	}
	m.markDone()
	if forget := m.forget.Load(); forget != nil {
		(*forget)()
	}
	return hookErr
}

// closeGate closes the gate for Stop or Fail and says so.
func (m *Machine) closeGate(t Trigger) {
	// At once, whatever an observer is doing: a slow observer (the audit
	// trail's fsync) must not keep the gate open after Stop.
	m.gate.close()
	if m.cfg.observer == nil {
		return
	}
	// Then in turn with the other gate events, so that the close is told
	// after an opening being told now; closing again undoes an opening
	// that came between the two closes, after its own event.
	m.gateEvents.Lock()
	defer m.gateEvents.Unlock()
	m.gate.close()
	m.emit(Event{Kind: EventGate, Trigger: t, Open: false, Epoch: m.gate.epoch()})
}

// endNow closes the gate for good and cancels any Graph request in flight,
// at once (see closeGate), and then says so.
func (m *Machine) endNow() {
	m.gate.end()
	m.kill()
	if m.cfg.observer == nil {
		return
	}
	m.gateEvents.Lock()
	defer m.gateEvents.Unlock()
	m.gate.end()
	m.emit(Event{Kind: EventGate, Trigger: CallEnded, Open: false, Epoch: m.gate.epoch()})
}

// recloseGate closes, under the lock, a gate that a Start may have opened
// after Stop, Fail or CallEnded first closed it, and says so if it was
// open, so that an observer (the audit trail) never sees a report sent
// while, as far as it was told, the gate was open.
func (m *Machine) recloseGate(t Trigger) {
	if m.cfg.observer == nil {
		m.gate.close()
		return
	}
	m.gateEvents.Lock()
	defer m.gateEvents.Unlock()
	if m.gate.close() {
		m.emit(Event{Kind: EventGate, Trigger: t, Open: false, Epoch: m.gate.epoch()})
	}
}

// endPersistence ends the recording for rule R2: the gate is closed, every
// lease is waited for, and then the bot's hook runs.
func (m *Machine) endPersistence(ctx context.Context, t Trigger, withHook bool) error {
	// Stop, Fail and CallEnded closed the gate before waiting for the lock,
	// but a Start that began after that close may have got the lock first
	// and opened the gate for its own, newer epoch: close it again here,
	// under the lock, before looking at the leases.
	m.recloseGate(t)
	if !m.mutant(hooks.ReportBeforeDrain) {
		var pause func()
		if m.cfg.checker != nil {
			pause = func() { m.yield(hooks.DrainWait) }
		}
		if err := m.gate.drain(ctx, pause); err != nil {
			return fmt.Errorf("fsm: %s: waiting for writers to release their leases: %w; the gate stays closed and nothing was reported, call %s again", t, err, t)
		}
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventLeasesDrained, Trigger: t})
	}
	m.yield(hooks.Drained)
	if !withHook {
		return nil
	}
	return m.runHook(ctx, t)
}

func (m *Machine) runHook(ctx context.Context, t Trigger) error {
	if m.cfg.hook != nil {
		if err := m.cfg.hook(ctx, t); err != nil {
			if t == CallEnded {
				return fmt.Errorf("fsm: CallEnded: recording-ended hook: %w; the gate is closed for good and the machine ended anyway (the call is over): seal what the hook could not", err)
			}
			return fmt.Errorf("fsm: %s: recording-ended hook: %w; the gate stays closed and nothing was reported", t, err)
		}
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventHookRan, Trigger: t})
	}
	m.yield(hooks.HookDone)
	return nil
}
