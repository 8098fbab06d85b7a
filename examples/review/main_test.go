package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recgate/recgate/fsm"
)

// The fast settings: one writer, no suite runs against seeded bugs, no Go
// tests. What was not run must say so, in its cells and in the verdict.
func TestReportIsComputedAndComplete(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"-out", dir, "-writers", "0", "-rapid-mutants=false", "-bots=false", "-go-tests=false", "-checks", "10"}, &out); err != nil {
		// The temporary directory goes with the test: keep the failing
		// rows in the log, or a CI failure says nothing about which check.
		md, _ := os.ReadFile(filepath.Join(dir, "review.md"))
		t.Fatalf("%v\n%s\nthe checks that failed:\n%s", err, out.String(), failedRows(string(md)))
	}
	if !strings.Contains(out.String(), "every check that ran passed") || !strings.Contains(out.String(), "not run here") ||
		!strings.Contains(out.String(), "not covered by that verdict (see \""+notCoveredTitle+"\"") {
		t.Errorf("printed %q", out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "review.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	for _, want := range []string{
		"# recgate compliance review\n\n## Verdict\n\n**every check that ran passed (",
		"Not run here, so this report does not vouch for them: ",
		"SPIN cross-check (`TestSpinAgreesWithGoChecker`", "(-go-tests=false)",
		"## What was reviewed", "| commit | `", "| local changes | ", "| Go | go1.", "| machine | ", "CPUs",
		"## Words used here", "- **lease**:", "- **epoch**:", "- **mutant (seeded bug)**:", "- **K writers**:", "- **model checker**:", "- **property suite**:", "- **gate**:",
		"> " + pageSentenceRestriction + " " + pageSentenceEnd, pageAddress,
		"### recgate's reading of it", "*This is recgate's reading, not Microsoft's text.*",
		"| R2: end the recording before reporting it ended | P2 EndBeforeReport",
		"model checker of the correct machine: **not run here: -writers 0**", "property suite against recgate's reference bot: **passed**",
		"`TestLeaseDelaysNotRecording` (fsm): **not run here: -go-tests=false**",
		"the property suite against the bot-side seeded bugs and the correct bots: **not run here: -bots=false**",
		"```mermaid\n" + fsm.Mermaid() + "```",
		fsm.TransitionTable(),
		"against recgate's reference bot: **passed**",
		"| ReportBeforeDrain | notRecording/failed is sent without waiting for held leases | caught | P2 EndBeforeReport",
		"not run here: -rapid-mutants=false",
		"**verifies**", "go run ./cmd/recgate-verify -head ",
		"- **authorised by** record", "status `completed`, via poll",
		"- **then reported** record", "`notRecording`",
		"| http-attempt | Start |", "429 TooManyRequests, Retry-After 1s",
		"## Every check, and how long it took",
		"**What this verdict does not cover** (see [" + notCoveredTitle + "](" + notCoveredAnchor + ")): ",
		"crash recovery (internal/crashtest) was not run",
		"## " + notCoveredTitle + "\n", "**Not run in this review** (-go-tests=false)",
		"| one | `internal/buggybots` | 12 | 4 | **not run in this review** |",
		"These bots are round one (`internal/buggybots`) of the " + itoa(len(botRounds())) + " rounds of user-side bots; the others, and the bugs the suite is known to miss, are not run here: see [" + notCoveredTitle + "](" + notCoveredAnchor + ").",
		"### Known misses of the property suite", "### Bugs caught in only some runs", "### The property suite's documented limits, in its own words",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, bad := range []string{"MISSED", "VIOLATION", ": **FAILED**", "| FAILED |", "MISSING", "**finding:**"} {
		if strings.Contains(report, bad) {
			t.Errorf("the report shows %q", bad)
		}
	}
	// The section on what is not covered comes right after the bots it
	// qualifies, and its anchor is the one the verdict links to.
	if i := strings.Index(report, "## "+notCoveredTitle); i < strings.Index(report, "## Bot-side seeded bugs") || i > strings.Index(report, "## Audit trail of one call") {
		t.Error("\"" + notCoveredTitle + "\" is missing or out of place")
	}
	if want := "#" + strings.ReplaceAll(strings.ToLower(notCoveredTitle), " ", "-"); notCoveredAnchor != want {
		t.Errorf("anchor %q, GitHub makes %q", notCoveredAnchor, want)
	}
	// The verdict leads, before anything else.
	if strings.Index(report, "## Verdict") > strings.Index(report, "## What was reviewed") {
		t.Error("the verdict does not lead")
	}
	for _, f := range []string{"machine.dot", "audit.jsonl"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	// The trail on disk verifies on its own, too.
	f, _ := os.Open(filepath.Join(dir, "audit.jsonl"))
	defer f.Close()
	if recs, err := fsm.VerifyAuditTrail(f); err != nil || len(recs) < 10 {
		t.Errorf("audit.jsonl: %d records, %v", len(recs), err)
	}
}

// A cell that names a check the report never made says so, and fails the
// report: no cell is fixed text.
func TestCellsAreComputed(t *testing.T) {
	r := &report{sections: map[string]*section{}}
	r.ran("a", "check A", true, 0, "")
	r.notRun("b", "check B", "spin is not installed")
	r.ran("c", "check C", false, 0, "broke")
	got := r.cell("a", "b", "c", "d")
	for _, want := range []string{"check A: **passed**", "check B: **not run here: spin is not installed**", "check C: **FAILED**", "d: MISSING"} {
		if !strings.Contains(got, want) {
			t.Errorf("cell %q lacks %q", got, want)
		}
	}
	if !r.failed {
		t.Error("a failed check and a missing one did not fail the report")
	}
	r.conclude()
	if !strings.HasPrefix(r.verdict, "PROBLEMS FOUND") {
		t.Errorf("verdict %q", r.verdict)
	}
}

func TestSkipReasonIsTheTestsOwn(t *testing.T) {
	got := skipReason([]string{"spin_test.go:69: spin is not installed (apt-get install -y spin); CI runs this test"})
	if got != "spin is not installed (apt-get install -y spin); CI runs this test" {
		t.Errorf("got %q", got)
	}
}

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-writers", "9"}, &out); err == nil {
		t.Error("no error for -writers 9")
	}
	if err := run([]string{"-checks", "-1"}, &out); err == nil {
		t.Error("no error for -checks -1")
	}
	if err := run([]string{"stray"}, &out); err == nil {
		t.Error("no error for a stray argument")
	}
}

// failedRows picks out of a report the table rows and findings that say
// something failed, so a failing test shows them.
func failedRows(report string) string {
	var b strings.Builder
	lines := strings.Split(report, "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.Contains(line, "FAILED") || strings.Contains(line, "**finding:**") || strings.Contains(line, "MISSED") {
			b.WriteString(line + "\n")
			// A failed suite's own output follows its verdict in a fenced
			// block: without it, a CI log names the failure but not the
			// seed and the violation that would replay it.
			if i+2 < len(lines) && lines[i+1] == "" && lines[i+2] == "```" {
				for i += 3; i < len(lines) && lines[i] != "```"; i++ {
					b.WriteString("    " + lines[i] + "\n")
				}
			}
		}
	}
	return b.String()
}

// A failing suite's seed and violation must reach the test log: CI keeps
// nothing else of the run.
func TestFailedRowsKeepTheSuiteOutput(t *testing.T) {
	report := "| a | passed |\n**FAILED** in 1s.\n\n```\n[rapid] failed: seed 42\nP1 violated\n```\nafter\n"
	got := failedRows(report)
	for _, want := range []string{"**FAILED** in 1s.", "seed 42", "P1 violated"} {
		if !strings.Contains(got, want) {
			t.Errorf("failedRows lost %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "after") || strings.Contains(got, "| a |") {
		t.Errorf("failedRows kept lines past the block or rows that passed:\n%s", got)
	}
}
