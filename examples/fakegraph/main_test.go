package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed and replaced on every write; nil until a waiter asks
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitFor waits until the output contains want, failing the test with the
// output if it does not within 10 s.
func (s *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	watchdog := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if strings.Contains(s.b.String(), want) {
			s.mu.Unlock()
			return
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-watchdog:
			t.Fatalf("watchdog: fakegraph never printed %q:\n%s", want, s.String())
		}
	}
}

func serve(t *testing.T, args ...string) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), out, ready) }()
	select {
	case base := <-ready:
		var once sync.Once
		return base, out, func() { // idempotent: a test may stop early and defer it too
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Error(err)
				}
			})
		}
	case err := <-done:
		cancel()
		t.Fatalf("fakegraph did not start: %v\n%s", err, out.String())
	case <-time.After(10 * time.Second):
		t.Fatal("fakegraph did not start")
	}
	return "", nil, nil
}

func post(t *testing.T, url, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer t")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp, m
}

func TestServesScriptedFaultsOverPlainHTTP(t *testing.T) {
	base, out, stop := serve(t, "-call", "c1", "-fault", "throttle:2", "-fault", "status:running")
	url := base + "/communications/calls/c1/updateRecordingStatus"
	body := `{"clientContext":"x","status":"recording"}`

	resp, _ := post(t, url, body)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("first reply %d Retry-After %q, want 429 and 2", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp, m := post(t, url, body)
	if resp.StatusCode != 200 || m["status"] != "running" || m["clientContext"] != "x" {
		t.Fatalf("second reply %d %v", resp.StatusCode, m)
	}
	if !strings.HasPrefix(resp.Header.Get("Location"), base+"/communications/calls/c1/operations/") {
		t.Errorf("Location %q is not on the fake", resp.Header.Get("Location"))
	}
	// recgate's own client works against it (plain http on loopback).
	c, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	op, err := c.UpdateRecordingStatus(context.Background(), "c2", graph.StatusRecording, "y")
	if err != nil || !op.Status.Confirmed() {
		t.Fatalf("client: %v %v", op.Status, err)
	}
	stop()
	printed := out.String()
	for _, want := range []string{"call c1: 2 scripted fault(s)", "fake Graph listening: base URL http://127.0.0.1:", "try: curl", "served 3 request(s)"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
}

func TestScriptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "faults.json")
	if err := os.WriteFile(path, []byte(`{"c9": [{"kind": "terminate"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	base, _, stop := serve(t, "-script", path)
	defer stop()
	resp, m := post(t, base+"/communications/calls/c9/updateRecordingStatus", `{"clientContext":"x","status":"recording"}`)
	if resp.StatusCode != 404 || m["error"] == nil {
		t.Fatalf("terminated call: %d %v", resp.StatusCode, m)
	}
}

func TestRefusesBadInput(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{
		{"-addr", "0.0.0.0:0"},
		{"-addr", "10.1.2.3:80"},
		{"-addr", "127.0.0.1:0", "-fault", "throttle"},
		{"-addr", "127.0.0.1:0", "-call", "c", "-fault", "explode"},
		{"-addr", "127.0.0.1:0", "-call", "c", "-fault", "latency:soon"},
		{"-addr", "127.0.0.1:0", "-script", "/no/such/file.json"},
	} {
		if err := run(context.Background(), args, &out, nil); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
