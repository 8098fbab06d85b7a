package fsm

import (
	"fmt"
	"time"

	"github.com/recgate/recgate/graph"
)

// AuditInterval is one recorded interval of a trail: from the gate opening
// to its closing, with what authorised it and what was reported after it.
// It is read from the records alone, so a reviewer who has only the file
// can get it (see cmd/recgate-verify).
type AuditInterval struct {
	// Authorized is the record of what authorised the gate to open: the
	// completed operation (OperationID, ClientContext, RequestID) and how
	// it came (Via; Issuer and Tenant for a notification). For a trail
	// written before recgate recorded it, the last completed reply or
	// update before the opening. Nil if the trail shows none.
	Authorized *AuditRecord
	// Opened is the record of the gate opening.
	Opened AuditRecord
	// Closed is the record of the gate closing; nil when the trail ends
	// with the gate open.
	Closed *AuditRecord
	// Report is the notRecording or failed request that followed the
	// closing, and ReportReply its outcome; nil when none followed (the
	// call ended, or the trail ends first).
	Report, ReportReply *AuditRecord
	// Findings lists what a reviewer should look at: an interval nothing
	// authorised, a report sent before the leases drained or the hook ran,
	// a trail that ends with the gate open.
	Findings []string
}

// Duration is how long the gate was open; zero while it still is.
func (iv AuditInterval) Duration() time.Duration {
	if iv.Closed == nil {
		return 0
	}
	return iv.Closed.Time.Sub(iv.Opened.Time)
}

// AuditIntervals reads the recorded intervals out of a verified trail (the
// records VerifyAuditTrail returns), in order.
func AuditIntervals(recs []AuditRecord) []AuditInterval {
	var out []AuditInterval
	var authorized *AuditRecord // the latest authorization not yet used
	var current *AuditInterval  // the open interval
	var closedOne *AuditInterval
	drained, hookRan := false, false
	for i := range recs {
		r := &recs[i]
		switch {
		case r.Kind == EventAuthorized:
			authorized = r
		case authorized == nil && current == nil && confirms(r):
			// Trails written before the authorized record existed.
			authorized = r
		case r.Kind == EventGate && r.GateOpen != nil && *r.GateOpen:
			if current != nil {
				current.Findings = append(current.Findings, fmt.Sprintf("the gate opened again (record %d) while already open", r.Seq))
				continue
			}
			out = append(out, AuditInterval{Opened: *r})
			current, closedOne = &out[len(out)-1], nil
			if authorized == nil {
				current.Findings = append(current.Findings, "nothing in the trail authorised this opening: no completed reply or update before it")
			} else {
				a := *authorized
				current.Authorized = &a
			}
			authorized = nil
		case r.Kind == EventGate && r.GateOpen != nil && !*r.GateOpen:
			if current != nil {
				c := *r
				current.Closed = &c
				closedOne, current = current, nil
				drained, hookRan = false, false
			}
		case r.Kind == EventLeasesDrained:
			drained = true
		case r.Kind == EventHookRan:
			hookRan = true
		case r.Kind == EventRequest && (r.Status == string(graph.StatusNotRecording) || r.Status == string(graph.StatusFailed)):
			if current != nil {
				current.Findings = append(current.Findings, fmt.Sprintf("%s was sent (record %d) while the gate was open", r.Status, r.Seq))
				continue
			}
			if closedOne != nil && closedOne.Report == nil {
				c := *r
				closedOne.Report = &c
				if !drained || !hookRan {
					closedOne.Findings = append(closedOne.Findings, fmt.Sprintf("%s was sent (record %d) before the leases drained and the recording-ended hook ran", r.Status, r.Seq))
				}
			}
		case r.Kind == EventReply && closedOne != nil && closedOne.Report != nil && closedOne.ReportReply == nil &&
			r.ClientContext == closedOne.Report.ClientContext:
			c := *r
			closedOne.ReportReply = &c
		}
		if r.Kind == EventRequest && r.Status == string(graph.StatusRecording) {
			authorized = nil // a new attempt: an older completion authorises nothing
		}
	}
	if current != nil {
		current.Findings = append(current.Findings, "the trail ends with the gate open")
	}
	return out
}

// confirms reports whether r is a completed reply or update (the evidence
// of trails that have no authorized record).
func confirms(r *AuditRecord) bool {
	return (r.Kind == EventReply || r.Kind == EventUpdate) && r.Error == "" &&
		r.Status == string(graph.StatusRecording) && graph.OperationStatus(r.OperationStatus).Confirmed()
}
