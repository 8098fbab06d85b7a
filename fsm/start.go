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
//
// A pending attempt that gets no outcome within the confirmation deadline
// (WithConfirmationDeadline) ends with the gate closed: the machine reports
// failed and moves to Failed, from which Start may try again.
//
// If ctx ends while another transition holds the machine (a Stop whose
// report is in flight, say), Start gives up and returns an error matching
// ErrMachineBusy and ctx's error; nothing was sent.
func (m *Machine) Start(ctx context.Context) (graph.Operation, error) {
	epoch := m.gate.epoch() // a Stop or CallEnded after this point supersedes the attempt
	if err := m.lock(ctx, Start); err != nil {
		return graph.Operation{}, err
	}
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
		m.setPending(&pendingAttempt{clientContext: cc, operationID: f.op.ID, epoch: epoch, reply: f.op})
	case Recording:
		if !f.opened {
			// Either the audit trail could not record what authorised the
			// recording (fail closed), or a Stop or CallEnded came first.
			if err := m.auditBlocks(); err != nil {
				return f.op, err
			}
			return f.op, ErrSuperseded
		}
	}
	return f.op, nil
}
