package fsm

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/recgate/recgate/graph"
)

// OperationUpdate feeds a later outcome of the pending recording attempt
// (matched by clientContext, or by operation id when the update has no
// clientContext). completed opens the gate, failed returns to NotRecording
// and returns a *RequestError wrapping *graph.OperationError, a
// still-pending status changes nothing. An update for another attempt, or
// when no attempt is pending (it was stopped, it timed out, the machine is
// in another state), changes nothing and returns an error matching
// ErrStaleUpdate.
//
// Prefer Notify (or a Registry) for notifications that Graph POSTed to the
// bot's callback: it records who vouched for them. An update fed here is
// recorded as ViaCaller.
//
// If ctx ends while another transition holds the machine (Graph's
// completed can overtake a slow reply to the request: the notification
// handler's deadline is a few seconds), OperationUpdate returns an error
// matching ErrMachineBusy and ctx's error, and keeps the update: it is
// applied, in a goroutine of the machine's own, as soon as that transition
// returns, so a completed that arrived before the reply saying running
// still opens the gate. At most MaxWaitingUpdates wait at a time; beyond
// that an update is dropped, and the error says so.
func (m *Machine) OperationUpdate(ctx context.Context, op graph.Operation) error {
	return m.operationUpdate(ctx, op, origin{via: ViaCaller})
}

// Notify applies one authenticated notification from Graph (package
// graph/callback validates and parses them) to this machine: an operation
// update goes to the pending attempt as OperationUpdate would take it, and
// is recorded with the token's issuer and tenant (Event.Via is
// ViaNotification); a terminated call is CallEnded. A notification for
// another call returns an error matching ErrUnknownCall and changes
// nothing. With more than one call per process, use a Registry, which
// routes each notification to its machine.
func (m *Machine) Notify(ctx context.Context, n graph.Notification) error {
	if n.CallID != m.callID {
		return fmt.Errorf("%w: the notification is for call %q, this machine guards %q", ErrUnknownCall, n.CallID, m.callID)
	}
	switch n.Kind {
	case graph.NotificationOperation:
		return m.operationUpdate(ctx, n.Operation, origin{via: ViaNotification, issuer: n.Issuer, tenant: n.Tenant})
	case graph.NotificationCallEnded:
		return m.CallEnded(ctx)
	}
	return fmt.Errorf("%w: kind %v", ErrUnknownNotification, n.Kind)
}

// MaxWaitingUpdates is how many operation updates a machine keeps, each
// waiting for the machine in a goroutine, while another transition holds
// it (see OperationUpdate).
const MaxWaitingUpdates = 4

func (m *Machine) operationUpdate(ctx context.Context, op graph.Operation, o origin) error {
	if err := m.lock(ctx, OperationUpdate); err != nil {
		if m.keepUpdate(ctx, op, o) {
			return fmt.Errorf("%w: OperationUpdate: another transition (probably a Graph request in flight) held the machine until ctx ended: %w; the update is kept, and applied as soon as that transition returns",
				ErrMachineBusy, ctx.Err())
		}
		return fmt.Errorf("%w; %d updates already wait for the machine, so this one was dropped", err, MaxWaitingUpdates)
	}
	defer m.unlock()
	return m.applyUpdate(ctx, op, o)
}

// keepUpdate applies op in a goroutine once the machine is free, unless
// MaxWaitingUpdates already wait. The update was authenticated (or handed
// over by the bot), and it is matched against the attempt pending then, as
// any update is.
func (m *Machine) keepUpdate(ctx context.Context, op graph.Operation, o origin) bool {
	if m.waitingUpdates.Add(1) > MaxWaitingUpdates {
		m.waitingUpdates.Add(-1)
		return false
	}
	go func() {
		defer m.waitingUpdates.Add(-1)
		ctx := context.WithoutCancel(ctx)
		_ = m.lock(ctx, OperationUpdate) // a context that never ends: cannot fail
		defer m.unlock()
		if m.State() == Ended {
			return // nothing to apply it to, and the trail may be closed (see Done)
		}
		if err := m.applyUpdate(ctx, op, o); err != nil && m.cfg.logger != nil {
			m.log(ctx, slog.LevelInfo, "a kept operation update, applied after the transition that held the machine", "err", err)
		}
	}()
	return true
}

// applyUpdate feeds op to the pending attempt. Called with the lock held.
func (m *Machine) applyUpdate(ctx context.Context, op graph.Operation, o origin) error {
	p, err := m.matchUpdate(op)
	if m.cfg.observer != nil {
		e := Event{Kind: EventUpdate, Trigger: OperationUpdate, Operation: op, Err: err, Via: o.via, Issuer: o.issuer, Tenant: o.tenant}
		if p != nil {
			e.Status, e.ClientContext = graph.StatusRecording, p.clientContext
		}
		m.emit(e)
	}
	if err != nil {
		if m.cfg.logger != nil { // building the arguments allocates
			m.log(ctx, slog.LevelInfo, "operation update ignored", "via", o.via, "issuer", o.issuer, "tenant", o.tenant,
				"clientContext", op.ClientContext, "operation", op.ID, "operationStatus", op.Status, "err", err)
		}
		return err
	}
	f := m.begin(ctx, OperationUpdate)
	f.status, f.clientContext, f.epoch = graph.StatusRecording, p.clientContext, p.epoch
	f.update, f.op, f.sent = &op, op, true
	f.origin = o
	if err := m.fire(f); err != nil {
		return err
	}
	switch m.State() {
	case Recording:
		m.clearPending()
		if !f.opened {
			return ErrSuperseded
		}
	case NotRecording:
		m.clearPending()
		return &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: NotRecording, Operation: op, Err: op.Err()}
	}
	return nil
}

// matchUpdate finds the pending attempt op is about, or says why there is
// none. A pending attempt exists only in AwaitingConfirmation.
func (m *Machine) matchUpdate(op graph.Operation) (*pendingAttempt, error) {
	if !m.permitted(OperationUpdate) {
		return nil, &TransitionError{State: m.State(), Trigger: OperationUpdate}
	}
	p := m.pending
	if p == nil {
		return nil, fmt.Errorf("%w: no recording attempt is pending (clientContext %q, operation %q)", ErrStaleUpdate, op.ClientContext, op.ID)
	}
	if !(op.ClientContext == p.clientContext || (op.ClientContext == "" && op.ID != "" && op.ID == p.operationID)) {
		return nil, fmt.Errorf("%w: it names clientContext %q and operation %q, the pending attempt is clientContext %q, operation %q",
			ErrStaleUpdate, op.ClientContext, op.ID, p.clientContext, p.operationID)
	}
	if !op.Status.Known() {
		return p, &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: m.State(), Operation: op, Err: op.Err()}
	}
	return p, nil
}
