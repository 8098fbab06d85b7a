package fsm

import (
	"net/http"
	"slices"
	"strings"

	"github.com/recgate/recgate/graph"
)

// trailState is what recovery reads out of a verified trail.
type trailState struct {
	state    State
	gateOpen bool
	epoch    uint64
	ended    bool
	// exposed: Graph may show the call as recording: a recording request
	// was sent and no later notRecording or failed got a reply, and Graph
	// did not refuse the recording.
	exposed bool
	// pending is the clientContext of a request with no reply recorded.
	pending       string
	pendingStatus graph.Status
	// recoveryHookDone: a recovery's hook succeeded, and no gate opened
	// since.
	recoveryHookDone bool
	// left is the state, gate and epoch as the dead process left them:
	// before the first record an earlier, unfinished recovery appended
	// (which closes the gate and moves to Stopping in the trail). A
	// retried recovery's hook is told the call as the first one was.
	left struct {
		state    State
		gateOpen bool
		epoch    uint64
	}
	recovering bool
}

// needsRecovery reports whether the trail ends without a clean end.
func (t trailState) needsRecovery() bool {
	if t.ended {
		return false
	}
	switch t.state {
	case Recording, AwaitingConfirmation, Stopping:
		return true
	}
	return t.gateOpen || t.exposed || t.pending != ""
}

// stateNamed parses a state's name as the trail writes it.
func stateNamed(name string) (State, bool) {
	for _, s := range States() {
		if s.String() == name {
			return s, true
		}
	}
	return NotRecording, false
}

// readTrail walks the records. It relies only on what the trail syncs
// (requests, replies, gate records, the end of the call); the
// transitions, which reach the disk with the next sync, refine the state.
func readTrail(recs []AuditRecord) trailState {
	var t trailState
	for i := range recs {
		r := &recs[i]
		if r.Trigger == RecoverTrigger && !t.recovering {
			t.recovering = true
			t.left.state, t.left.gateOpen, t.left.epoch = t.state, t.gateOpen, t.epoch
		}
		switch r.Kind {
		case EventTransition:
			if s, ok := stateNamed(r.To); ok {
				t.state = s
				if s == Ended {
					t.ended = true
				}
			}
		case EventAuthorized:
			// Synced before the gate opens; the gate's own record is
			// written after it opened. A trail that ends here may have
			// had its gate open, and writers in it.
			t.gateOpen, t.epoch = true, r.Epoch
			t.recoveryHookDone = false
		case EventGate:
			if r.GateOpen != nil {
				t.gateOpen, t.epoch = *r.GateOpen, r.Epoch
				if *r.GateOpen {
					t.recoveryHookDone = false
				}
			}
		case EventHookRan:
			if r.Trigger == RecoverTrigger {
				t.recoveryHookDone = r.Error == ""
			}
		case EventRequest:
			t.pending, t.pendingStatus = r.ClientContext, graph.Status(r.Status)
			if r.Status == string(graph.StatusRecording) {
				t.exposed = true
			}
		case EventReply:
			if r.ClientContext == t.pending {
				t.pending, t.pendingStatus = "", ""
			}
			switch {
			case r.Status == string(graph.StatusRecording) && refusal(r):
				t.exposed = false
			case r.Status != string(graph.StatusRecording) && (r.Error == "" || r.HTTPStatus == http.StatusNotFound || nonCompliance(r)):
				// Graph acknowledged notRecording or failed, or the call is
				// gone, or it is not a compliance-recording call (8506).
				t.exposed = false
			}
		}
	}
	if !t.recovering {
		t.left.state, t.left.gateOpen, t.left.epoch = t.state, t.gateOpen, t.epoch
	}
	return t
}

// refusal reports whether a reply to recording says Graph will not record:
// a failed operation, or an HTTP error that is neither throttling nor a
// server-side failure (those leave Graph's view unknown).
func refusal(r *AuditRecord) bool {
	if r.OperationStatus != "" && strings.EqualFold(r.OperationStatus, string(graph.OperationFailed)) {
		return true
	}
	switch {
	case r.HTTPStatus == 0, r.HTTPStatus == http.StatusTooManyRequests, r.HTTPStatus == http.StatusRequestTimeout, r.HTTPStatus >= 500:
		return false
	}
	return r.HTTPStatus >= 400
}

// nonCompliance reports whether a reply was Graph's 8506 refusal.
func nonCompliance(r *AuditRecord) bool {
	return r.ErrorCode == graph.CodeNonComplianceCall || slices.Contains(r.InnerErrorCodes, graph.CodeNonComplianceCall)
}
