package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph/graphtest"
)

// summary checks the rules against what the fake saw and what was written.
func (b *bot) summary(w io.Writer) error {
	fmt.Fprintln(w, "\nsummary")
	failed := 0
	check := func(ok bool, format string, args ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(w, "  %s %s\n", mark, fmt.Sprintf(format, args...))
	}
	totalAccepted := 0
	for s := range b.wavs {
		size, secs, err := readWAV(b.wavs[s].f.Name())
		check(err == nil && size == int64(b.accepted[s]*frameBytes),
			"stream %d: %s holds %d frames (%.2f s), exactly the %d accepted; %d refused", s, filepath.Base(b.wavs[s].f.Name()), size/frameBytes, secs, b.accepted[s], b.refused[s])
		totalAccepted += b.accepted[s]
	}
	if b.fake != nil {
		b.checkAgainstFake(w, check, totalAccepted)
	} else {
		fmt.Fprintln(w, "  (talking to the real Graph: the checks against the fake's logs are skipped)")
	}
	recs, err := b.verifyAudit()
	check(err == nil, "audit trail %s: %d records, hash chain verified%s", filepath.Base(b.audit.Name()), len(recs), errSuffix(err))
	if head := b.m.AuditHead(); head != "" {
		fmt.Fprintf(w, "       its head (keep it apart from the trail): %s\n       verify it later: go run ./cmd/recgate-verify -head %s %s\n", head, head, b.audit.Name())
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	fmt.Fprintf(w, "\nall checks passed; listen to %s\n", filepath.Join(b.opt.out, "stream-0.wav"))
	return nil
}

// checkAgainstFake prints the fake's logs and checks the rules, the
// forgeries and the end of the call against them.
func (b *bot) checkAgainstFake(w io.Writer, check func(bool, string, ...any), totalAccepted int) {
	requests, deliveries := b.fake.Requests(), b.fake.Deliveries()
	fmt.Fprintln(w, "  the fake Graph's request log:")
	for _, r := range requests {
		if r.Method == http.MethodGet && !isOperationRead(r) {
			// The callback's Validator fetching the fake's OpenID
			// configuration and signing keys.
			fmt.Fprintf(w, "       %s %s -> HTTP %d (the callback's validator fetching the signing keys)\n", r.Method, r.Path, r.Reply)
			continue
		}
		what := r.Status
		if r.Method == http.MethodGet {
			what = "operation"
		}
		fmt.Fprintf(w, "       %s %-12s -> HTTP %d %s%s\n", r.Method, what, r.Reply, r.OperationStatus, faultNote(r.Fault))
	}
	if len(deliveries) > 0 {
		fmt.Fprintln(w, "  the fake Graph's notifications to the callback:")
		for _, d := range deliveries {
			token := "signed"
			if d.Forgery != graphtest.NotForged {
				token = "forged: " + string(d.Forgery)
			}
			fmt.Fprintf(w, "       POST %-12s %-22s -> HTTP %d\n", d.Status, "("+token+")", d.StatusCode)
		}
	}

	var confirmedAt, reportAt time.Time
	var after []string
	readLocation := false
	for _, r := range requests {
		if r.Status == "recording" && r.OperationStatus == "completed" && confirmedAt.IsZero() {
			confirmedAt = r.Time
		}
		if (r.Status == "notRecording" || r.Status == "failed") && reportAt.IsZero() {
			reportAt = r.Time
		}
		if !b.endedAt.IsZero() && r.Time.After(b.endedAt) && (r.Method == http.MethodPost || isOperationRead(r)) {
			after = append(after, r.Method+" "+r.Path+" "+r.Status)
		}
		readLocation = readLocation || isOperationRead(r)
	}
	confirmedByNotification := false
	for _, d := range deliveries {
		if d.Forgery == graphtest.NotForged && d.Status == "completed" && d.StatusCode == http.StatusAccepted && confirmedAt.IsZero() {
			confirmedAt, confirmedByNotification = d.Time, true
		}
	}
	if totalAccepted > 0 {
		how := "reply"
		if confirmedByNotification {
			how = "signed notification, validated by the callback,"
		}
		check(!confirmedAt.IsZero() && confirmedAt.Before(b.firstWrite), "R1: Graph's completed %s came before the first persisted frame", how)
	} else {
		check(true, "R1: nothing was persisted")
	}
	b.hookMu.Lock()
	hookAt := b.hookAt
	b.hookMu.Unlock()
	if !reportAt.IsZero() {
		check(reportAt.After(b.lastWrite) && reportAt.After(hookAt), "R2: notRecording was sent after the last frame and after the files were closed")
	} else {
		check(true, "R2: no notRecording/failed was sent (none was due)")
	}
	check(!readLocation, "the operation's Location was never read: outcomes came in replies and signed notifications")
	if len(b.forgeries) > 0 {
		ok, names, replay := forgerySummary(b.forgeries)
		check(ok, "forged notifications (%s) saying %s, sent during the run, were refused with 401 and changed nothing", names, saying(b.forgeries[0].what))
		if replay != nil {
			check(replay.err == nil && replay.code == http.StatusAccepted && replay.unchanged,
				"a genuine token replayed with another call's body passed the token check (202) and changed nothing: it names no attempt of this call")
		}
	}
	_, held := b.registry.Get(b.opt.callID)
	check(!b.leftByItself && b.m.State() == fsm.Ended && !held, "the call's end came as a signed notification: the machine is %s and the registry forgot the call", b.m.State())
	check(len(after) == 0, "after the call ended nothing was sent to Graph%s", listSuffix(after))
}

// isOperationRead reports whether r read an operation's Location.
func isOperationRead(r graphtest.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Path, "/operations/")
}

// saying describes what a forged notification claimed.
func saying(what string) string {
	if what == "terminated" {
		return "the call terminated"
	}
	return "the pending recording operation " + what
}

func faultNote(k graphtest.FaultKind) string {
	if k == "" {
		return ""
	}
	return " (scripted fault: " + string(k) + ")"
}

// verifyAudit reads back the audit trail written so far and verifies it
// against the head the machine reports.
func (b *bot) verifyAudit() ([]fsm.AuditRecord, error) {
	if err := b.audit.Sync(); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(b.audit.Name())
	if err != nil {
		return nil, err
	}
	return fsm.VerifyAuditTrailHead(bytes.NewReader(data), b.m.AuditHead())
}

func listSuffix(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return ": " + strings.Join(list, ", ")
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}
