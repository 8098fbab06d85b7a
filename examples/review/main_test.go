package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recgate/recgate/fsm"
)

func TestReportIsComputedAndComplete(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"-out", dir, "-writers", "1", "-rapid-mutants=false"}, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "every check passed") {
		t.Errorf("printed %q", out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "review.md"))
	if err != nil {
		t.Fatal(err)
	}
	report := string(md)
	for _, want := range []string{
		"> **R1.**", "> **R2.**",
		"| R2: end the recording before reporting it ended | P2 EndBeforeReport",
		"```mermaid\n" + fsm.Mermaid() + "```",
		fsm.TransitionTable(),
		"| 1 | ", "no violation",
		"every machine state and every event was reached",
		"against recgate's reference bot: **passed**",
		"| ReportBeforeDrain | notRecording/failed is sent without waiting for held leases | caught | P2 EndBeforeReport",
		"| CheckThenWrite |",
		"**verifies**",
		"| 1 | request | Start |",
		"**every check passed.**",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(report, "MISSED") || strings.Contains(report, "VIOLATION") {
		t.Error("the report shows a failure")
	}
	for _, f := range []string{"machine.dot", "product-k1.dot", "audit.jsonl"} {
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

func TestBadFlags(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-writers", "9"}, &out); err == nil {
		t.Error("no error for -writers 9")
	}
}
