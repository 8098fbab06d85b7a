package main

import (
	"fmt"
	"strings"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// violations counts what broke the rule, by invariant, with the first few
// examples in words.
type violations struct {
	outside        int // frames persisted outside a confirmed interval
	reportTooEarly int // notRecording/failed sent before the last write
	afterEnd       int // requests sent after the call ended
	refusedInside  int64
	crossed        int64 // frames in the wrong sink, or out of order
	notEnded       int   // calls whose machine did not end
	scenario       int   // calls that did not play what they were dealt
	uncleanTrails  int   // journal trails a Recover after the run had to put right
	examples       []string
}

func (v *violations) total() int64 {
	return int64(v.outside+v.reportTooEarly+v.afterEnd+v.notEnded+v.scenario+v.uncleanTrails) + v.refusedInside + v.crossed
}

func (v *violations) add(counter *int, c *call, format string, args ...any) {
	*counter++
	if len(v.examples) < 10 {
		v.examples = append(v.examples, fmt.Sprintf("call %d (%s, %s): %s", c.idx, c.id, c.kind, fmt.Sprintf(format, args...)))
	}
}

// checks counts what was checked.
type checks struct {
	persisted, refused int64
	dropped            int64 // frames writers skipped, too late to write
	bytes              int64
	confirmed          int // calls with a confirmed interval
	byNotification     int // of which Graph confirmed by a signed notification
	reports            int // notRecording/failed requests checked
	requests           int
	terminations       int
	throttledReplies   int
	nonCompliance      int
	failedOps          int
}

// check judges every call from the fake's request log, its notification
// log, the sinks and the machines.
func (res *result) check(r *rig) {
	res.violations, res.checks, res.requests, res.deliveries = violations{}, checks{}, 0, 0
	reqs := map[string][]graphtest.Request{}
	for _, q := range r.fake.Requests() {
		if c := r.calls[q.CallID]; c != nil {
			reqs[q.CallID] = append(reqs[q.CallID], q)
		}
	}
	dels := map[string][]graphtest.Delivery{}
	for _, d := range r.fake.Deliveries() {
		if c := r.calls[d.CallID]; c != nil {
			dels[d.CallID] = append(dels[d.CallID], d)
		}
	}
	v, k := &res.violations, &res.checks
	for _, c := range res.calls {
		res.requests += len(reqs[c.id])
		res.deliveries += len(dels[c.id])
		res.checkCall(r, c, reqs[c.id], dels[c.id])
		v.refusedInside += c.refusedInside.Load()
		for i := range c.sinks {
			s := &c.sinks[i]
			v.crossed += s.crossed
			k.persisted += s.persisted.Load()
			k.refused += s.refused.Load()
			k.dropped += s.dropped.Load()
			k.bytes += s.bytes
		}
	}
	if n := r.registry.Len(); n != 0 {
		v.notEnded += n
		v.examples = append(v.examples, fmt.Sprintf("the registry still holds %d machines after every call ended", n))
	}
}

func (res *result) checkCall(r *rig, c *call, reqs []graphtest.Request, dels []graphtest.Delivery) {
	v, k := &res.violations, &res.checks
	k.requests += len(reqs)

	// When Graph confirmed: its completed reply to recording (the request's
	// arrival: the reply went out after it), or its signed notification
	// (the POST's start: the gate opened while the callback handled it).
	var confirmed, reported, end int64
	var reports []graphtest.Request
	throttled := false
	for _, q := range reqs {
		at := r.at(q.Time)
		switch {
		case q.Status == string(graph.StatusRecording) && q.Reply == 200 && strings.EqualFold(q.OperationStatus, string(graph.OperationCompleted)):
			if confirmed == 0 {
				confirmed = at
			}
		case q.Status == string(graph.StatusNotRecording) || q.Status == string(graph.StatusFailed):
			reports = append(reports, q)
			if reported == 0 {
				reported = at
			}
		}
		switch {
		case q.Reply == 429:
			throttled = true
			k.throttledReplies++
		case q.Fault == graphtest.KindNonCompliance:
			k.nonCompliance++
		case strings.EqualFold(q.OperationStatus, string(graph.OperationFailed)):
			k.failedOps++
		}
	}
	byNotification := false
	for _, d := range dels {
		if d.Forgery != graphtest.NotForged || d.StatusCode != 202 {
			continue
		}
		switch d.Status {
		case string(graph.OperationCompleted):
			byNotification = true
			if at := r.at(d.Time); confirmed == 0 || at < confirmed {
				confirmed = at
			}
		case graphtest.NotifyTerminated:
			k.terminations++
		}
	}
	endAnswered := c.endAnswered.Load()
	end = reported
	if endAnswered != 0 && (end == 0 || endAnswered < end) {
		end = endAnswered
	}
	if confirmed != 0 {
		k.confirmed++
		if byNotification {
			k.byNotification++
		}
	}

	// P1: every persisted frame inside the confirmed interval.
	var frames, first, last int64
	for i := range c.sinks {
		s := &c.sinks[i]
		if n := s.persisted.Load(); n > 0 {
			frames += n
			if first == 0 || s.first < first {
				first = s.first
			}
			last = max(last, s.last)
		}
	}
	if frames > 0 {
		switch {
		case confirmed == 0:
			v.add(&v.outside, c, "%d frames persisted, and Graph never confirmed recording", frames)
		case first <= confirmed:
			v.add(&v.outside, c, "a frame persisted %v before Graph confirmed", ns(confirmed-first))
		}
		switch {
		case end == 0:
			v.add(&v.outside, c, "%d frames persisted, and neither notRecording/failed nor the call's end followed", frames)
		case last >= end:
			v.add(&v.outside, c, "a frame persisted %v after notRecording/failed or the call's end", ns(last-end))
		}
	}
	// P2: notRecording/failed after the last write.
	for _, q := range reports {
		k.reports++
		if frames > 0 && r.at(q.Time) <= last {
			v.add(&v.reportTooEarly, c, "%s sent %v before the last write", q.Status, ns(last-r.at(q.Time)))
		}
	}
	// P5: nothing sent after the call ended.
	for _, q := range reqs {
		if q.Reply == 404 || (endAnswered != 0 && r.at(q.Time) > endAnswered) {
			v.add(&v.afterEnd, c, "%s %s sent after the call ended (reply %d)", q.Method, q.Status, q.Reply)
		}
	}
	if c.m.State() != fsm.Ended || endAnswered == 0 || c.endErr != nil {
		v.add(&v.notEnded, c, "machine %s, termination answered: %v, error %v", c.m.State(), endAnswered != 0, c.endErr)
	}
	res.checkScenario(c, throttled, byNotification, confirmed != 0, frames, reports)
}

// checkScenario: the call played what it was dealt.
func (res *result) checkScenario(c *call, throttled, byNotification, confirmed bool, frames int64, reports []graphtest.Request) {
	v := &res.violations
	bad := func(format string, args ...any) { v.add(&v.scenario, c, format, args...) }
	switch {
	case c.kind.refused():
		if c.startErr == nil || confirmed || frames > 0 || len(reports) > 0 {
			bad("Start %v, confirmed %v, %d frames, %d reports; want a refusal and nothing recorded", c.startErr, confirmed, frames, len(reports))
		}
		if c.kind == kindNonCompliant && !graph.IsNonCompliance(c.startErr) {
			bad("Start %v; want 8506", c.startErr)
		}
		return
	case c.kind == kindEndedMid:
		if c.startErr != nil || !confirmed || len(reports) != 0 {
			bad("Start %v, confirmed %v, %d reports; want a recording ended by the call's end, nothing reported", c.startErr, confirmed, len(reports))
		}
		return
	}
	// One report: the client may send it again (same clientContext) when
	// an attempt got no reply in time; the last copy must be answered.
	oneReport := len(reports) > 0 && reports[len(reports)-1].Reply == 200
	for _, q := range reports {
		oneReport = oneReport && q.ClientContext == reports[0].ClientContext && q.Status == string(graph.StatusNotRecording)
	}
	if c.startErr != nil || !confirmed || c.stopErr != nil || !oneReport {
		bad("Start %v, confirmed %v, Stop %v, %d reports; want confirmed, stopped, one notRecording (retries of it aside) answered 200", c.startErr, confirmed, c.stopErr, len(reports))
	}
	if c.kind == kindThrottled && !throttled {
		bad("no 429 in the fake's log")
	}
	if (c.kind == kindPending) != byNotification {
		bad("confirmed by notification: %v", byNotification)
	}
}
