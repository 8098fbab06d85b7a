package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"time"
)

// goTest is one named Go test the report runs and cites.
type goTest struct {
	pkg, name string
	// label, if set, is how the report names it (the SPIN cross-check).
	label string
	// keep lists what a passing test's log lines must contain to be kept
	// as the check's detail (the crash test's kill count, say).
	keep []string
}

// crashTestName is internal/crashtest's test: the report runs it with its
// default number of kills and says how many it drew.
const crashTestName = "TestSIGKILLAndRecover"

// goTests are the tests the "checked by" cells cite: each is run when the
// report is made (from a checkout, with the go command), and its cell says
// what it gave.
var goTests = []goTest{
	{pkg: "./fsm", name: "TestStartPendingKeepsGateClosed"},
	{pkg: "./fsm", name: "TestConcurrentWritersAndController"},
	{pkg: "./fsm", name: "TestCallEndedDuringInflightStartNeverOpens"},
	{pkg: "./fsm", name: "TestStopDuringInflightStart"},
	{pkg: "./fsm", name: "TestLeaseDelaysNotRecording"},
	{pkg: "./fsm", name: "TestIntrospectionSendsNothing"},
	{pkg: "./fsm", name: "TestOneRequestPerAttempt"},
	{pkg: "./fsm", name: "TestRepeatingClientContextGeneratorIsRefused"},
	{pkg: "./fsm", name: "TestAuditTrailAnswersTheReviewersQuestions"},
	{pkg: "./fsm", name: "TestFailClosedGateNeverOpensWithoutItsRecord"},
	{pkg: "./fsm", name: "TestFailClosedOpenGateClosesThroughStop"},
	{pkg: "./internal/endtoend", name: "TestOnlyAuthenticConfirmationOpensTheGate"},
	{pkg: "./internal/endtoend", name: "TestEveryForgeryIsRefusedAndChangesNothing"},
	{pkg: "./cmd/recgate-verify", name: "TestRefusesTamperedTrails"},
	{pkg: "./properties", name: "TestSpinAgreesWithGoChecker", label: "SPIN cross-check (`TestSpinAgreesWithGoChecker`: the SPIN model checker and recgate's own agree on the correct machine and on each seeded bug)"},
	{pkg: "./internal/crashtest", name: crashTestName, label: "crash recovery (`" + crashTestName + "`, internal/crashtest: SIGKILLs a bot at drawn points, restarts it, and checks Graph's log, the journal and the media)",
		keep: []string{" kills", "kill points:", "journal:", "media:"}},
}

func (g goTest) title() string {
	if g.label != "" {
		return g.label
	}
	return "`" + g.name + "` (" + strings.TrimPrefix(g.pkg, "./") + ")"
}

// testEvent is one line of `go test -json`.
type testEvent struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// runGoTests runs the cited tests in one `go test` and records each as a
// check. Without a checkout or the go command, each is recorded as not run
// here, with the reason.
func (r *report) runGoTests(enabled bool, root string) {
	why := ""
	switch {
	case !enabled:
		why = "-go-tests=false"
	case root == "":
		why = "the report was not run from a recgate checkout, so there are no tests to run"
	default:
		if _, err := exec.LookPath("go"); err != nil {
			why = "the go command is not installed"
		}
	}
	if why != "" {
		for _, g := range goTests {
			r.notRun(g.name, g.title(), why)
		}
		return
	}
	names := make([]string, len(goTests))
	pkgs := map[string]bool{}
	var pkgList []string
	for i, g := range goTests {
		names[i] = g.name
		if !pkgs[g.pkg] {
			pkgs[g.pkg] = true
			pkgList = append(pkgList, g.pkg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	args := append([]string{"test", "-count=1", "-json", "-run", "^(" + strings.Join(names, "|") + ")$"}, pkgList...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, runErr := cmd.Output()
	r.goTestTime = time.Since(start)
	r.goTestCommand = "go " + strings.Join(args, " ")

	type outcome struct {
		action  string
		elapsed float64
		output  []string
	}
	got := map[string]*outcome{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var e testEvent
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Test == "" || strings.Contains(e.Test, "/") {
			continue
		}
		o := got[e.Package+" "+e.Test]
		if o == nil {
			o = &outcome{}
			got[e.Package+" "+e.Test] = o
		}
		switch e.Action {
		case "pass", "fail", "skip":
			o.action, o.elapsed = e.Action, e.Elapsed
		case "output":
			if t := strings.TrimSpace(e.Output); t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") {
				o.output = append(o.output, t)
			}
		}
	}
	for _, g := range goTests {
		o := got["github.com/recgate/recgate/"+strings.TrimPrefix(g.pkg, "./")+" "+g.name]
		took := time.Duration(0)
		if o != nil {
			took = time.Duration(o.elapsed * float64(time.Second))
		}
		switch {
		case o == nil || o.action == "":
			detail := "go test did not report this test: it was renamed or removed, or its package did not build"
			if runErr != nil {
				detail += " (" + firstLine(stderr.String(), runErr.Error()) + ")"
			}
			r.ran(g.name, g.title(), false, 0, detail)
		case o.action == "skip":
			r.notRun(g.name, g.title(), skipReason(o.output))
		default:
			detail := ""
			if o.action == "fail" {
				detail = strings.Join(last(o.output, 3), " ")
			} else {
				detail = keptLines(o.output, g.keep)
			}
			r.ran(g.name, g.title(), o.action == "pass", took, detail)
		}
	}
}

// keptLines joins the test's log lines that hold one of keep, each
// without its file:line.
func keptLines(output, keep []string) string {
	var out []string
	for _, l := range output {
		for _, k := range keep {
			if strings.Contains(l, k) {
				if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l, "_test.go:") {
					l = msg
				}
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "; ")
}

// skipReason is the test's own t.Skip message, without the file:line.
func skipReason(output []string) string {
	for i := len(output) - 1; i >= 0; i-- {
		l := output[i]
		if _, msg, ok := strings.Cut(l, ": "); ok && strings.Contains(l, "_test.go:") {
			return msg
		}
	}
	return "the test skipped itself"
}

func firstLine(s, fallback string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return fallback
	}
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func last(s []string, n int) []string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
