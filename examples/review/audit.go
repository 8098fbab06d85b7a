package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// auditRun plays one call against the fake Graph with the audit trail on
// (a throttled Start, a pending reply, the completion found by polling the
// operation, one frame, Stop, the end of the call), verifies the trail, and
// shows it with what it says about the recorded interval.
func (r *report) auditRun() error {
	start := time.Now()
	fake := graphtest.NewServer(graphtest.WithToken("review"))
	defer fake.Close()
	call := fake.AddCall("review-call").Then(graphtest.Throttle("1"), graphtest.ReplyStatus("running"))
	client, err := graph.NewClient(graph.StaticToken("review"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		return err
	}
	trailPath := filepath.Join(r.dir, "audit.jsonl")
	f, err := os.Create(trailPath)
	if err != nil {
		return err
	}
	defer f.Close()
	opened := make(chan struct{}, 1)
	var media bytes.Buffer
	m, err := fsm.New("review-call", client, fsm.WithAuditTrail(f),
		fsm.WithOperationPolling(client, 20*time.Millisecond, 100),
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				select {
				case opened <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		return err
	}
	w := m.Gate().Writer(&media)
	ctx := context.Background()
	_, _ = w.Write([]byte("before"))
	op, err := m.Start(ctx)
	if err != nil {
		return err
	}
	if err := call.SetOperationStatus(op.ID, graph.OperationCompleted); err != nil {
		return err
	}
	select {
	case <-opened:
	case <-time.After(10 * time.Second):
		return errors.New("audit run: the polled completion did not open the gate within 10 s")
	}
	_, _ = w.Write([]byte("frame"))
	if err := m.Stop(ctx); err != nil {
		return err
	}
	_, _ = w.Write([]byte("after"))
	if err := m.CallEnded(ctx); err != nil {
		return err
	}
	head := m.AuditHead()
	if err := m.AuditErr(); err != nil {
		return err
	}
	raw, err := os.ReadFile(trailPath)
	if err != nil {
		return err
	}
	recs, verr := fsm.VerifyAuditTrailHead(bytes.NewReader(raw), head)
	ivs := fsm.AuditIntervals(recs)

	s := r.section("Audit trail of one call")
	s.p("One call against the fake Graph: Start was throttled once (HTTP 429, Retry-After 1 s) and then accepted as pending; the completion was found by polling the operation's Location (this bot has no callback; with one, the trail names the notification and the issuer and tenant of its validated token); one frame was persisted (%q), then Stop and the end of the call. Frames before Start and after Stop were refused.", media.String())
	s.p("")
	var problems []string
	if verr != nil {
		problems = append(problems, "the trail did not verify: "+verr.Error())
		s.p("**The trail did not verify: %v**", verr)
	} else {
		s.p("The trail (`audit.jsonl`, %d lines) **verifies**: every line chains to the one before by SHA-256, sequence numbers run without gaps, times never go back, and the last line's hash is the head the machine reported (`%s`). A reviewer checks it with `go run ./cmd/recgate-verify -head %s audit.jsonl`.", len(recs), head, head)
	}
	s.p("")
	problems = append(problems, r.intervals(s, ivs)...)
	problems = append(problems, evidence(recs)...)
	s.p("| # | time (UTC) | event | trigger | from → to | status | HTTP | gate | clientContext | operation | via |")
	s.p("|---|---|---|---|---|---|---|---|---|---|---|")
	for _, rec := range recs {
		fromTo := ""
		if rec.From != "" {
			fromTo = rec.From + " → " + rec.To
		}
		gate := ""
		if rec.GateOpen != nil {
			gate = map[bool]string{true: "open", false: "closed"}[*rec.GateOpen]
		}
		status := rec.Status
		if rec.OperationStatus != "" {
			status += " → " + rec.OperationStatus
		}
		http := ""
		if rec.HTTPStatus != 0 {
			http = fmt.Sprintf("%d %s", rec.HTTPStatus, rec.ErrorCode)
			if rec.RetryAfter != "" {
				http += ", Retry-After " + rec.RetryAfter
			}
		}
		s.p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", rec.Seq, rec.Time.Format("15:04:05.000"), rec.Kind, rec.Trigger, fromTo, status,
			strings.TrimSpace(http), gate, rec.ClientContext, rec.OperationID, rec.Via)
	}
	s.p("")
	detail := fmt.Sprintf("%d records, head verified, %d interval(s)", len(recs), len(ivs))
	if len(problems) > 0 {
		detail = strings.Join(problems, "; ")
	}
	r.ran("audit", "one call played and its audit trail verified", len(problems) == 0, time.Since(start), detail)
	return nil
}

// intervals shows what the trail says about each recorded interval, as
// cmd/recgate-verify prints it, and returns what is wrong.
func (r *report) intervals(s *section, ivs []fsm.AuditInterval) []string {
	var problems []string
	if len(ivs) != 1 {
		problems = append(problems, fmt.Sprintf("the trail shows %d recorded intervals, the call had one", len(ivs)))
	}
	for i, iv := range ivs {
		s.p("Recorded interval %d, read from the trail alone:", i+1)
		s.p("")
		if a := iv.Authorized; a != nil {
			s.p("- **authorised by** record %d: operation `%s` (clientContext `%s`), status `%s`, via %s", a.Seq, a.OperationID, a.ClientContext, a.OperationStatus, a.Via)
		} else {
			s.p("- **authorised by** nothing in the trail")
		}
		s.p("- **gate opened** record %d at %s", iv.Opened.Seq, iv.Opened.Time.Format(time.RFC3339Nano))
		if c := iv.Closed; c != nil {
			s.p("- **gate closed** record %d at %s (%s), open %s", c.Seq, c.Time.Format(time.RFC3339Nano), c.Trigger, iv.Duration().Round(time.Millisecond))
		}
		if rep := iv.Report; rep != nil {
			s.p("- **then reported** record %d at %s: `%s`", rep.Seq, rep.Time.Format(time.RFC3339Nano), rep.Status)
		}
		for _, f := range iv.Findings {
			s.p("- **finding:** %s", f)
			problems = append(problems, f)
		}
		s.p("")
		if iv.Authorized == nil || iv.Authorized.OperationStatus != "completed" || iv.Authorized.Via != string(fsm.ViaPoll) {
			problems = append(problems, "the interval's authorisation is not the polled completed operation")
		}
		if iv.Report == nil || iv.Report.Status != string(graph.StatusNotRecording) {
			problems = append(problems, "no notRecording followed the interval")
		}
	}
	return problems
}

// evidence checks that the trail holds the HTTP attempts of the throttled
// request.
func evidence(recs []fsm.AuditRecord) []string {
	var statuses []int
	for _, rec := range recs {
		if rec.Kind == fsm.EventAttempt && rec.Status == string(graph.StatusRecording) {
			statuses = append(statuses, rec.HTTPStatus)
		}
	}
	if len(statuses) != 2 || statuses[0] != 429 || statuses[1] != 200 {
		return []string{fmt.Sprintf("the recording request's HTTP attempts in the trail are %v, want [429 200]", statuses)}
	}
	return nil
}
