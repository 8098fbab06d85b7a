package otelrecgate

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// Outcome says what came of an updateRecordingStatus request or of a later
// operation update: the value of the recgate.outcome attribute.
type Outcome string

// The outcomes of a request (recgate.graph.requests) and of an update
// (recgate.graph.updates).
const (
	OutcomeCompleted    Outcome = "completed"     // the operation completed: for recording, the gate may open
	OutcomePending      Outcome = "pending"       // notStarted, running or no status: the outcome comes later
	OutcomeFailed       Outcome = "failed"        // the operation failed (not for policy)
	OutcomeNonCompliant Outcome = "non_compliant" // refused with 8506: not a compliance-recording call; never retried
	OutcomeThrottled    Outcome = "throttled"     // 429, 503 or 504 still, after the client's retries
	OutcomeHTTPError    Outcome = "http_error"    // another HTTP error reply (401, 403, 404, 5xx...)
	OutcomeTimeout      Outcome = "timeout"       // a deadline passed (the attempt timeout or the caller's)
	OutcomeCancelled    Outcome = "cancelled"     // the context was cancelled (the call ended mid-request, say)
	OutcomeSuperseded   Outcome = "superseded"    // not sent: a Stop, Fail or the call's end came first
	OutcomeError        Outcome = "error"         // anything else: a malformed reply, a foreign reply, a transport error
	OutcomeStale        Outcome = "stale"         // an update for no pending attempt (ignored)
)

var (
	requestStatuses = []graph.Status{graph.StatusRecording, graph.StatusNotRecording, graph.StatusFailed}
	requestOutcomes = []Outcome{OutcomeCompleted, OutcomePending, OutcomeFailed, OutcomeNonCompliant, OutcomeThrottled,
		OutcomeHTTPError, OutcomeTimeout, OutcomeCancelled, OutcomeSuperseded, OutcomeError}
	updateOutcomes = []Outcome{OutcomeCompleted, OutcomePending, OutcomeFailed, OutcomeNonCompliant, OutcomeStale, OutcomeError}
	vias           = []fsm.Via{fsm.ViaReply, fsm.ViaNotification, fsm.ViaPoll, fsm.ViaCaller}
)

type requestKey struct {
	status  graph.Status
	outcome Outcome
}

type updateKey struct {
	via     fsm.Via
	outcome Outcome
}

// callTime is what the observer remembers of one call between events.
type callTime struct {
	requestAt time.Time // the pending request's EventRequest
	openedAt  time.Time // the gate's opening; zero while closed
}

// Observer returns the function to pass to fsm.WithObserver. It counts
// transitions (by from, to, trigger), requests (by status and outcome, and
// their duration), operation updates (by via and outcome), gate openings
// (by via), the gates open now, and how long each gate stayed open.
//
// To observe with a function of your own too, call both:
//
//	obs := m.Observer()
//	fsm.WithObserver(func(e fsm.Event) { obs(e); mine(e) })
//
// It keeps a few bytes per call from the call's first request or opening
// until its machine reaches Ended; a machine dropped without ending
// (Registry.Remove and no CallEnded) leaves its entry, so end every
// machine.
func (m *Metrics) Observer() func(fsm.Event) {
	return m.observe
}

func (m *Metrics) observe(e fsm.Event) {
	ctx := context.Background()
	switch e.Kind {
	case fsm.EventTransition:
		m.transitions.Add(ctx, 1, m.transitionOptions(e.From, e.To, e.Trigger)...)
		if e.To == fsm.Ended {
			m.calls.forget(e.CallID, m, e.Time)
		}
	case fsm.EventRequest:
		m.calls.requested(e.CallID, e.Time)
	case fsm.EventReply:
		o := m.requestOptions(e.Status, replyOutcome(e))
		m.requests.Add(ctx, 1, o.add...)
		if sent := m.calls.replied(e.CallID); !sent.IsZero() {
			m.requestDur.Record(ctx, e.Time.Sub(sent).Seconds(), o.record...)
		}
	case fsm.EventUpdate:
		m.updates.Add(ctx, 1, m.updateOptions(e.Via, updateOutcome(e))...)
	case fsm.EventGate:
		if e.Open {
			opts, ok := m.viaBy[e.Via]
			if !ok {
				opts = addOptions(AttrVia.String(string(e.Via)))
			}
			m.gateOpens.Add(ctx, 1, opts...)
			if m.calls.opened(e.CallID, e.Time) {
				m.gateOpenNow.Add(ctx, 1)
			}
			return
		}
		if opened := m.calls.closed(e.CallID); !opened.IsZero() {
			m.gateOpenNow.Add(ctx, -1)
			m.gateOpenDur.Record(ctx, e.Time.Sub(opened).Seconds())
		}
	}
}

func (m *Metrics) transitionOptions(from, to fsm.State, t fsm.Trigger) []metric.AddOption {
	if int(from) < len(m.transitionBy) && int(to) < len(m.transitionBy[from]) && int(t) < len(m.transitionBy[from][to]) && from >= 0 && to >= 0 && t >= 0 {
		return m.transitionBy[from][to][t : t+1]
	}
	return addOptions(AttrFrom.String(from.String()), AttrTo.String(to.String()), AttrTrigger.String(t.String()))
}

func (m *Metrics) requestOptions(s graph.Status, o Outcome) measureOptions {
	if opts, ok := m.requestBy[requestKey{s, o}]; ok {
		return opts
	}
	return optionsFor(AttrStatus.String(string(s)), AttrOutcome.String(string(o)))
}

func (m *Metrics) updateOptions(v fsm.Via, o Outcome) []metric.AddOption {
	if opts, ok := m.updateBy[updateKey{v, o}]; ok {
		return opts
	}
	return addOptions(AttrVia.String(string(v)), AttrOutcome.String(string(o)))
}

// replyOutcome classifies a reply event.
func replyOutcome(e fsm.Event) Outcome {
	if e.Err == nil {
		switch {
		case e.Operation.Status.Confirmed():
			return OutcomeCompleted
		case e.Operation.Status.Pending():
			return OutcomePending
		}
		return OutcomeError
	}
	return errorOutcome(e.Err)
}

// updateOutcome classifies an update event.
func updateOutcome(e fsm.Event) Outcome {
	if errors.Is(e.Err, fsm.ErrStaleUpdate) || errors.Is(e.Err, fsm.ErrSuperseded) {
		return OutcomeStale
	}
	switch {
	case graph.IsNonCompliance(e.Operation.Err()):
		return OutcomeNonCompliant
	case e.Operation.Status == graph.OperationFailed:
		return OutcomeFailed
	case e.Err != nil:
		return OutcomeError
	case e.Operation.Status.Confirmed():
		return OutcomeCompleted
	case e.Operation.Status.Pending():
		return OutcomePending
	}
	return OutcomeError
}

func errorOutcome(err error) Outcome {
	var ge *graph.Error
	switch {
	case graph.IsNonCompliance(err):
		return OutcomeNonCompliant
	case errors.Is(err, graph.ErrOperationFailed):
		return OutcomeFailed
	case errors.Is(err, fsm.ErrSuperseded), errors.Is(err, fsm.ErrCallEnded):
		return OutcomeSuperseded
	case errors.As(err, &ge) && ge.Temporary():
		return OutcomeThrottled
	case errors.As(err, &ge):
		return OutcomeHTTPError
	case errors.Is(err, context.DeadlineExceeded):
		return OutcomeTimeout
	case errors.Is(err, context.Canceled):
		return OutcomeCancelled
	}
	return OutcomeError
}

// requested notes when call's request was sent.
func (c *callShard) requested(callID string, at time.Time) {
	c.mu.Lock()
	c.entry(callID).requestAt = at
	c.mu.Unlock()
}

// replied returns when call's request was sent, and forgets it.
func (c *callShard) replied(callID string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.calls[callID]
	if !ok {
		return time.Time{}
	}
	at := ct.requestAt
	ct.requestAt = time.Time{}
	return at
}

// opened notes when call's gate opened; false if it was open already.
func (c *callShard) opened(callID string, at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct := c.entry(callID)
	if !ct.openedAt.IsZero() {
		return false
	}
	ct.openedAt = at
	return true
}

// closed returns when call's gate opened (zero if it was not open), and
// marks it closed.
func (c *callShard) closed(callID string) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.calls[callID]
	if !ok {
		return time.Time{}
	}
	at := ct.openedAt
	ct.openedAt = time.Time{}
	return at
}

// forget drops call's entry when its machine ended; a gate still counted
// open (it cannot be, as CallEnded closes it first) is closed.
func (c *callShard) forget(callID string, m *Metrics, at time.Time) {
	c.mu.Lock()
	ct, ok := c.calls[callID]
	delete(c.calls, callID)
	c.mu.Unlock()
	if ok && !ct.openedAt.IsZero() {
		m.gateOpenNow.Add(context.Background(), -1)
		m.gateOpenDur.Record(context.Background(), at.Sub(ct.openedAt).Seconds())
	}
}

// entry returns call's entry, making it. Called with mu held.
func (c *callShard) entry(callID string) *callTime {
	ct, ok := c.calls[callID]
	if !ok {
		ct = &callTime{}
		c.calls[callID] = ct
	}
	return ct
}
