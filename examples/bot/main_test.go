package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runBot(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	out := t.TempDir()
	var buf bytes.Buffer
	err := run(context.Background(), append([]string{"-out", out, "-frame-interval", "0"}, args...), &buf, func(string) string { return "" })
	return buf.String(), out, err
}

func TestDemoScenario(t *testing.T) {
	printed, out, err := runBot(t)
	if err != nil {
		t.Fatalf("%v\n%s", err, printed)
	}
	for _, want := range []string{
		"state: NotRecording -> AwaitingConfirmation (Start)",
		"gate: OPEN",
		"media: ticks 10-19, 30 frames refused",
		"media: ticks 20-119, 300 frames accepted and persisted",
		"recording-ended hook: 3 WAV files flushed and closed (after Stop)",
		"ok   R1: Graph's completed reply came before the first persisted frame",
		"ok   R2: notRecording was sent after the last frame and after the files were closed",
		"hash chain verified",
		"all checks passed",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	for _, want := range []string{`POST recording\s+-> HTTP 429\s+\(scripted fault: throttle\)`, `POST recording\s+-> HTTP 200 running`,
		`GET operation\s+-> HTTP 200 completed`, `POST notRecording\s+-> HTTP 200 completed`} {
		if !regexp.MustCompile(want).MatchString(printed) {
			t.Errorf("the request log lacks %s:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "FAIL") {
		t.Errorf("a check failed:\n%s", printed)
	}
	// The hook ran before notRecording was sent, in the printed order too.
	if strings.Index(printed, "recording-ended hook") > strings.Index(printed, "POST updateRecordingStatus notRecording") {
		t.Errorf("notRecording printed before the hook:\n%s", printed)
	}
	for s := 0; s < 3; s++ {
		size, secs, err := readWAV(filepath.Join(out, "stream-"+string(rune('0'+s))+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		if size != 100*frameBytes || secs != 2.0 {
			t.Errorf("stream %d: %d bytes, %.2f s; want exactly the 100 confirmed frames (2 s)", s, size, secs)
		}
	}
	trail, err := os.ReadFile(filepath.Join(out, "audit.jsonl"))
	if err != nil || !bytes.Contains(trail, []byte(`"to":"Ended"`)) {
		t.Errorf("audit trail missing or incomplete: %v", err)
	}
}

func TestRefusedScenarioPersistsNothing(t *testing.T) {
	printed, out, err := runBot(t, "-scenario", "refused")
	if err != nil {
		t.Fatalf("%v\n%s", err, printed)
	}
	if !strings.Contains(printed, "8506") || !strings.Contains(printed, "compliance recording policy") {
		t.Errorf("the refusal is not explained:\n%s", printed)
	}
	size, _, err := readWAV(filepath.Join(out, "stream-0.wav"))
	if err != nil || size != 0 {
		t.Errorf("refused call persisted %d bytes (%v)", size, err)
	}
}

func TestCallEndedScenarioClosesAtOnce(t *testing.T) {
	printed, out, err := runBot(t, "-scenario", "call-ended", "-streams", "2")
	if err != nil {
		t.Fatalf("%v\n%s", err, printed)
	}
	if strings.Contains(printed, "POST updateRecordingStatus notRecording") {
		t.Errorf("a report was sent for a call that had ended:\n%s", printed)
	}
	size, _, err := readWAV(filepath.Join(out, "stream-1.wav"))
	if err != nil || size != 60*frameBytes {
		t.Errorf("stream 1: %d bytes (%v), want the 60 confirmed frames", size, err)
	}
}

func TestBadFlagsAndMissingCredentials(t *testing.T) {
	for _, args := range [][]string{{"-scenario", "nope"}, {"-streams", "0"}, {"-call-id", "a/b"}, {"-frame-interval", "-1s"}} {
		if _, _, err := runBot(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	_, _, err := runBot(t, "-graph-url", "https://graph.microsoft.com/v1.0")
	if err == nil || !strings.Contains(err.Error(), "AZURE_TENANT_ID") {
		t.Errorf("want a clear credentials error, got %v", err)
	}
}
