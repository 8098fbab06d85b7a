package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// smallRun is a fleet of 50 calls, time compressed 10x, every fault dealt
// at least once.
var smallRun = options{
	calls: 50, fps: 50, duration: time.Second, speedup: 10, tick: 20 * time.Millisecond,
	throttled: 0.1, pending: 0.1, refused: 0.04, endedMid: 0.04, seed: 7, timeout: time.Minute, requestMetrics: true,
}

// A small fleet through the real client, handler, registry and fake:
// every call plays what it was dealt, and no invariant is violated. The
// -timeout of the run is the watchdog: it names the run that hung.
func TestSmallFleetKeepsEveryInvariant(t *testing.T) {
	var out bytes.Buffer
	res, err := runFleet(context.Background(), smallRun, &out)
	if err != nil {
		t.Fatal(err)
	}
	res.print(&out, smallRun)
	if v := res.violations; v.total() != 0 {
		t.Fatalf("%d violations:\n%s", v.total(), out.String())
	}
	k := res.checks
	for _, c := range []struct {
		what      string
		got, want int
	}{
		{"calls confirmed", k.confirmed, 48},
		{"confirmed by a signed notification", k.byNotification, 5},
		{"429 replies", k.throttledReplies, 5},
		{"8506 refusals", k.nonCompliance, 1},
		{"failed operations", k.failedOps, 1},
		{"notRecording reports", k.reports, 46},
		{"signed terminations", k.terminations, 50},
		{"active calls at the peak", res.peak.active, 48},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.what, c.got, c.want)
		}
	}
	if k.persisted == 0 || k.refused == 0 {
		t.Errorf("frames: %d persisted, %d refused; want both", k.persisted, k.refused)
	}
	if !strings.Contains(out.String(), "zero violations") {
		t.Errorf("the report does not say zero violations:\n%s", out.String())
	}
	// The warning says whether the writers kept up, as the counts do.
	if warned := strings.Contains(out.String(), "WARNING: this machine could not keep up"); warned != (k.droppedShare() > droppedWarnShare) {
		t.Errorf("%d of %d frames dropped (%.2f%%), warning printed: %v", k.dropped, k.persisted+k.refused+k.dropped, 100*k.droppedShare(), warned)
	}
	if t.Failed() {
		t.Log(out.String())
	}

	// A run whose writers fell behind says so before its numbers and in
	// its summary; it is still no violation.
	starved := *res
	starved.checks.dropped = (k.persisted + k.refused) / 8 // about 11% of the frames due, as on a starved box
	var report bytes.Buffer
	starved.print(&report, smallRun)
	text := report.String()
	top, summary := strings.Index(text, "WARNING: this machine could not keep up: writers fell behind"), strings.Index(text, "WARNING: this machine could not keep up (11.1% of frames dropped)")
	if top < 0 || top > strings.Index(text, "\nthroughput:") {
		t.Errorf("no warning before the throughput and latency figures:\n%s", text)
	}
	if zero := strings.Index(text, "zero violations\n"); summary < 0 || zero < 0 || summary < zero {
		t.Errorf("no warning after the summary's \"zero violations\":\n%s", text)
	}
	if !strings.Contains(text, "not recgate") || starved.violations.total() != 0 {
		t.Errorf("the warning does not say what the numbers measure, or dropped frames became violations (%d):\n%s", starved.violations.total(), text)
	}

	// The checker is not blind: each planted fault is caught.
	c := res.calls[0]
	for c.sinks[0].persisted.Load() == 0 {
		c = res.calls[c.idx+1]
	}
	first, last := c.sinks[0].first, c.sinks[0].last
	for _, p := range []struct {
		name  string
		plant func()
		got   func(v violations) int64
	}{
		{"a write before Graph confirmed", func() { c.sinks[0].first = 1 }, func(v violations) int64 { return int64(v.outside) }},
		{"a write after notRecording", func() { c.sinks[0].last = c.stopDone + int64(time.Second) },
			func(v violations) int64 { return int64(v.outside + v.reportTooEarly) }},
		{"a frame refused while confirmed", func() { c.refusedInside.Add(1) }, func(v violations) int64 { return v.refusedInside }},
		{"a crossed frame", func() { c.sinks[1].crossed++ }, func(v violations) int64 { return v.crossed }},
	} {
		p.plant()
		res.check(res.rig)
		if p.got(res.violations) == 0 {
			t.Errorf("planted %s: not caught", p.name)
		}
		c.sinks[0].first, c.sinks[0].last, c.sinks[1].crossed = first, last, 0
		c.refusedInside.Store(0)
	}
	res.check(res.rig)
	if n := res.violations.total(); n != 0 {
		t.Errorf("after undoing the plants: %d violations", n)
	}
}

// The warning comes past 1% of the frames due dropped, names the counts,
// and says what the numbers then measure.
func TestOverloadWarning(t *testing.T) {
	o := options{calls: 1000, speedup: 1, fps: 50}
	got := overloadWarning(checks{persisted: 450000, refused: 10085, dropped: 56915}, o, 1000)
	for _, want := range []string{"WARNING: this machine could not keep up", "dropped 56915 of the 517000 frames due (11.0%, more than 1%)",
		"they are not violations", "measure a starved process, not recgate", "fewer -calls (1000 now)"} {
		if !strings.Contains(got, want) {
			t.Errorf("warning lacks %q:\n%s", want, got)
		}
	}
	for _, k := range []checks{{persisted: 99, dropped: 1}, {persisted: 1000}, {}} {
		if got := overloadWarning(k, o, 1000); got != "" {
			t.Errorf("%+v: warned %q, want nothing at or under 1%%", k, got)
		}
	}
	if got := trailCount(1001, 1000); !strings.Contains(got, "the one more is the warm-up call") {
		t.Errorf("trailCount(1001, 1000) = %q", got)
	}
	if got := trailCount(1000, 1000); !strings.Contains(got, "want 1001") {
		t.Errorf("trailCount(1000, 1000) = %q", got)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-calls", "0"}, {"-speedup", "0"}, {"-rate", "-1"}, {"-throttled", "2"},
		{"-throttled", "0.5", "-pending", "0.6"}, {"-retry-after", "61"}, {"-tick", "0"},
	} {
		if _, err := parseFlags(args, &bytes.Buffer{}); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	var out bytes.Buffer
	if ok, err := run(context.Background(), []string{"-h"}, &out); !ok || err != nil || !strings.Contains(out.String(), "-calls") {
		t.Errorf("-h: ok %v, err %v, usage %q", ok, err, out.String())
	}
}

// The same fleet keeping an fsm.Journal: every call ended, so a Recover
// over the journal afterwards (what a restarted bot runs first) finds every
// trail clean. An interrupted recording planted in the journal (a trail
// cut right after its gate opened, as a SIGKILL would leave it) is caught.
func TestSmallFleetKeepsAJournal(t *testing.T) {
	o := smallRun
	o.journal = t.TempDir()
	var out bytes.Buffer
	res, err := runFleet(context.Background(), o, &out)
	if err != nil {
		t.Fatal(err)
	}
	res.print(&out, o)
	j := res.journal
	if v := res.violations.total(); v != 0 || j.err != nil {
		t.Fatalf("%d violations, journal error %v:\n%s", v, j.err, out.String())
	}
	// One trail per machine: the fleet's calls and the warm-up call.
	if j.trails != o.calls+1 || j.clean != j.trails || j.bytes == 0 {
		t.Fatalf("journal: %d trails, %d clean, %d bytes; want %d, all clean:\n%s", j.trails, j.clean, j.bytes, o.calls+1, out.String())
	}
	if !strings.Contains(out.String(), "found 51 clean, 0 to put right") {
		t.Errorf("the report does not give the recovery:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "(51 trails for 50 calls: the one more is the warm-up call") {
		t.Errorf("the report does not explain the trail one more than the calls:\n%s", out.String())
	}
	// Every call ended, so every trail leaves the journal for its archive.
	if j.archived != o.calls+1 || j.left != 0 {
		t.Errorf("ArchiveEnded moved %d trails, left %d; want %d and 0:\n%s", j.archived, j.left, o.calls+1, out.String())
	}

	// Plant a recording cut short: a copy of a confirmed call's trail, up
	// to and including its gate opening.
	paths, err := filepath.Glob(filepath.Join(o.journal, "ended", "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var cut []byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(data, []byte(`"gateOpen":true`)); i >= 0 {
			cut = data[:i+bytes.IndexByte(data[i:], '\n')+1]
			break
		}
	}
	if cut == nil {
		t.Fatal("no trail shows a gate opening")
	}
	if err := os.WriteFile(filepath.Join(o.journal, "zz-interrupted.jsonl"), cut, 0o644); err != nil {
		t.Fatal(err)
	}
	res.recoverJournal(context.Background(), res.rig)
	if res.violations.uncleanTrails != 1 || res.journal.trails != 1 {
		t.Errorf("planted an interrupted trail: %d unclean of %d; want the 1", res.violations.uncleanTrails, res.journal.trails)
	}
}
