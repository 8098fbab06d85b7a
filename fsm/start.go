package fsm

import (
	"context"
	"fmt"

	"github.com/recgate/recgate/graph"
)

// Start asks Graph for permission to record. A completed reply opens the
// gate (Recording) and returns nil; a pending reply moves to
// AwaitingConfirmation and returns nil with the gate closed (see
// OperationUpdate); anything else leaves the state as it was and returns an
// error: a *RequestError wrapping Graph's, a *TransitionError if Start is not
// permitted now, or ErrSuperseded if a Stop, Fail or CallEnded came in
// meanwhile. The returned Operation is Graph's reply, if there was one.
func (m *Machine) Start(ctx context.Context) (graph.Operation, error) {
	epoch := m.gate.epoch() // a Stop or CallEnded after this point supersedes the attempt
	m.lock()
	defer m.unlock()

	if !m.permitted(Start) {
		return graph.Operation{}, &TransitionError{State: m.State(), Trigger: Start}
	}
	cc, err := m.nextClientContext()
	if err != nil {
		return graph.Operation{}, fmt.Errorf("fsm: Start: %w", err)
	}
	f := m.begin(ctx, Start)
	f.status, f.clientContext, f.epoch = graph.StatusRecording, cc, epoch
	if err := m.fire(f); err != nil {
		return f.op, err
	}
	switch m.State() {
	case AwaitingConfirmation:
		m.pending = &pendingAttempt{clientContext: cc, operationID: f.op.ID, epoch: epoch}
	case Recording:
		if !f.opened {
			return f.op, ErrSuperseded
		}
	}
	return f.op, nil
}

// OperationUpdate feeds a later notification about the pending recording
// attempt (matched by clientContext, or by operation id when the
// notification has no clientContext). completed opens the gate, failed
// returns to NotRecording and returns a *RequestError wrapping
// *graph.OperationError, a still-pending status changes nothing. An update
// for another attempt returns ErrStaleUpdate and changes nothing.
func (m *Machine) OperationUpdate(ctx context.Context, op graph.Operation) error {
	m.lock()
	defer m.unlock()

	if !m.permitted(OperationUpdate) {
		return &TransitionError{State: m.State(), Trigger: OperationUpdate}
	}
	p := m.pending
	if p == nil || !(op.ClientContext == p.clientContext || (op.ClientContext == "" && op.ID != "" && op.ID == p.operationID)) {
		return fmt.Errorf("%w (clientContext %q, operation %q)", ErrStaleUpdate, op.ClientContext, op.ID)
	}
	if !op.Status.Known() {
		return &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: m.State(), Operation: op, Err: op.Err()}
	}
	f := m.begin(ctx, OperationUpdate)
	f.status, f.clientContext, f.epoch = graph.StatusRecording, p.clientContext, p.epoch
	f.update, f.op, f.sent = &op, op, true
	if err := m.fire(f); err != nil {
		return err
	}
	switch m.State() {
	case Recording:
		m.pending = nil
		if !f.opened {
			return ErrSuperseded
		}
	case NotRecording:
		m.pending = nil
		return &RequestError{CallID: m.callID, Trigger: OperationUpdate, Status: graph.StatusRecording, ClientContext: p.clientContext,
			State: NotRecording, Operation: op, Err: op.Err()}
	}
	return nil
}
