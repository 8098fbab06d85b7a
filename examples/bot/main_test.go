package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/graph/graphtest"
)

func runBot(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	// A run takes well under a second; if one hangs, fail loudly with
	// every goroutine's stack and the arguments of the run.
	wd := time.AfterFunc(60*time.Second, func() {
		debug.SetTraceback("all")
		panic(fmt.Sprintf("watchdog: the bot run with %v is still going after 60 s", args))
	})
	defer wd.Stop()
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
		"media: ticks 10-14, 15 frames refused",
		"media: ticks 15-19, 15 frames refused",
		"media: ticks 20-119, 300 frames accepted and persisted",
		"recording-ended hook: 3 WAV files flushed and closed (after Stop)",
		"update: operation completed, by a notification whose token https://graph.microsoft.com vouched for",
		"state: AwaitingConfirmation -> Recording (OperationUpdate)",
		"callback: request refused (expired)",
		"callback: request refused (unsigned_token)",
		"registry: notification ignored (stale-operation)",
		"ok   R1: Graph's completed signed notification, validated by the callback, came before the first persisted frame",
		"ok   R2: notRecording was sent after the last frame and after the files were closed",
		"ok   the operation's Location was never read",
		`ok   forged notifications (an expired token, one with alg "none") saying the pending recording operation completed, sent during the run, were refused with 401 and changed nothing`,
		"ok   a genuine token replayed with another call's body passed the token check (202) and changed nothing",
		"ok   the call's end came as a signed notification: the machine is Ended and the registry forgot the call",
		"plain HTTP is fine here: it listens on loopback",
		"hash chain verified",
		"all checks passed",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	for _, want := range []string{`POST recording\s+-> HTTP 429\s+\(scripted fault: throttle\)`, `POST recording\s+-> HTTP 200 running`,
		`POST notRecording\s+-> HTTP 200 completed`,
		`POST completed\s+\(forged: expired\)\s+-> HTTP 401`, `POST completed\s+\(forged: algNone\)\s+-> HTTP 401`,
		`POST completed\s+\(forged: replay\)\s+-> HTTP 202`,
		`POST completed\s+\(signed\)\s+-> HTTP 202`, `POST terminated\s+\(signed\)\s+-> HTTP 202`} {
		if !regexp.MustCompile(want).MatchString(printed) {
			t.Errorf("the logs lack %s:\n%s", want, printed)
		}
	}
	if strings.Contains(printed, "GET operation") {
		t.Errorf("the bot read the operation's Location; its outcome must come from the signed notification:\n%s", printed)
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
	for _, want := range []string{
		`ok   forged notifications (an expired token, one with alg "none") saying the call terminated, sent during the run, were refused with 401 and changed nothing`,
		"ok   the call's end came as a signed notification",
		"all checks passed",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	// The forged terminations came at tick 40: had one been obeyed, the
	// recording would have stopped there, 30 frames short.
	size, _, err := readWAV(filepath.Join(out, "stream-1.wav"))
	if err != nil || size != 60*frameBytes {
		t.Errorf("stream 1: %d bytes (%v), want the 60 confirmed frames", size, err)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-scenario", "nope"}, {"-streams", "0"}, {"-call-id", "a/b"}, {"-frame-interval", "-1s"},
		{"-callback-cert", "c.pem"}, {"-callback-key", "k.pem", "-graph-url", "https://graph.microsoft.com/v1.0"},
		{"-openid-config", "https://example.com/.well-known/openid-configuration"}} {
		if _, _, err := runBot(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// The real path stops before it sends anything while credentials, the
// app ID or the callback address are missing, and says what is missing.
// Graph here is a loopback server that counts requests.
func TestRealGraphPathStopsBeforeSendingWithoutCredentialsOrCallback(t *testing.T) {
	var requests atomic.Int64
	graphSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer graphSrv.Close()
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{args: nil, want: []string{"AZURE_TENANT_ID", "-callback-addr", "-app-id", "nothing was sent"}},
		{args: []string{"-token", "t"}, want: []string{"-callback-addr", "-app-id"}},
		{args: []string{"-token", "t", "-app-id", "a"}, want: []string{"-callback-addr"}},
		{args: []string{"-callback-addr", "127.0.0.1:0"}, env: map[string]string{"AZURE_CLIENT_ID": "a"}, want: []string{"AZURE_TENANT_ID"}},
	} {
		args := append([]string{"-graph-url", graphSrv.URL + "/v1.0"}, tc.args...)
		var buf bytes.Buffer
		err := run(context.Background(), append([]string{"-out", t.TempDir(), "-frame-interval", "0"}, args...), &buf,
			func(k string) string { return tc.env[k] })
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: the error does not name %s: %v", args, w, err)
			}
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached Graph before the bot had what it needs", n)
	}
}

// With everything given, the real path serves the callback on
// -callback-addr and says what Graph needs to reach it. "Graph" here is
// the fake on loopback, in plain HTTP, answering completed at once; the
// bot ends the machine itself, as no termination comes.
func TestRealGraphPathServesTheCallbackAndSaysWhatGraphNeeds(t *testing.T) {
	g := graphtest.NewServer(graphtest.WithPlainHTTP(), graphtest.WithAnyCall())
	defer g.Close()
	printed, _, err := runBot(t, "-graph-url", g.BaseURL(), "-token", "t", "-app-id", "my-app-id", "-callback-addr", "127.0.0.1:0", "-streams", "1",
		"-tenants", "tenant-a, tenant-b")
	if err != nil {
		t.Fatalf("%v\n%s", err, printed)
	}
	for _, want := range []string{
		"callback listening at http://127.0.0.1:",
		"a public https:// URL that reaches /api/calling here: plain HTTP is served, so terminate TLS in front of it",
		"the calling webhook of its Azure Bot resource",
		"audience my-app-id",
		"tenant tenant-a or tenant-b",
		"https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration",
		"bot: no termination notification came; the bot ends the call's machine itself",
		"(talking to the real Graph: the checks against the fake's logs are skipped)",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	if n := len(g.Requests()); n != 2 {
		t.Errorf("Graph got %d requests, want recording and notRecording", n)
	}
}
