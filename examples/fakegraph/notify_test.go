package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/recgate/recgate/graph/graphtest"
)

const testApp = "app-under-test"

type received struct {
	auth string
	body map[string]any
}

// botCallback stands in for a bot's callback: it answers 202 and hands
// each POST to the test.
func botCallback(t *testing.T) (string, <-chan received) {
	t.Helper()
	got := make(chan received, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		got <- received{auth: r.Header.Get("Authorization"), body: m}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/callback", got
}

func await(t *testing.T, got <-chan received, what string) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("watchdog: the callback never received %s", what)
	}
	return received{}
}

// resourceData is the one notification's resourceData.
func resourceData(t *testing.T, r received) map[string]any {
	t.Helper()
	v, _ := r.body["value"].([]any)
	if len(v) != 1 {
		t.Fatalf("body %v: want one notification", r.body)
	}
	rd, _ := v[0].(map[string]any)["resourceData"].(map[string]any)
	return rd
}

// verifyToken checks r's token against the keys fakegraph serves, found
// through its OpenID configuration.
func verifyToken(t *testing.T, base string, r received) error {
	t.Helper()
	root := strings.TrimSuffix(base, "/v1.0")
	var cfg struct {
		JWKSURI string `json:"jwks_uri"`
	}
	fetch(t, root+"/.well-known/OpenIdConfiguration", &cfg)
	var set jose.JSONWebKeySet
	fetch(t, cfg.JWKSURI, &set)
	raw, _ := strings.CutPrefix(r.auth, "Bearer ")
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q not served", tok.Headers[0].KeyID)
	}
	var c jwt.Claims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return err
	}
	return c.Validate(jwt.Expected{Issuer: graphtest.DefaultIssuer, AnyAudience: jwt.Audience{testApp}, Time: time.Now()})
}

func fetch(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
}

const update = `{"clientContext":"x","status":"recording"}`

func TestPendingThenSignedNotification(t *testing.T) {
	cb, got := botCallback(t)
	base, out, stop := serve(t, "-callback", cb, "-app-id", testApp, "-call", "c1", "-fault", "pending,notify=completed")
	resp, m := post(t, base+"/communications/calls/c1/updateRecordingStatus", update)
	if resp.StatusCode != 200 || m["status"] != "running" {
		t.Fatalf("reply %d %v, want running", resp.StatusCode, m)
	}
	r := await(t, got, "the completed notification")
	if rd := resourceData(t, r); rd["status"] != "completed" || rd["clientContext"] != "x" {
		t.Errorf("resourceData %v", rd)
	}
	if err := verifyToken(t, base, r); err != nil {
		t.Errorf("token: %v", err)
	}
	// The callback handed the POST over before it answered 202: the fake
	// logs the outcome once it has read that answer, which can come later
	// on a loaded machine. Stopping first would cancel the delivery.
	out.waitFor(t, " notify POST "+cb+" call c1 completed -> ")
	stop()
	printed := out.String()
	for _, want := range []string{
		"OpenID configuration for validating notifications: http://127.0.0.1:",
		"notifications go to " + cb,
		" POST /v1.0/communications/calls/c1/updateRecordingStatus 200 operation running (fault pending)\n",
		" GET /.well-known/OpenIdConfiguration 200\n",
		" notify POST " + cb + " call c1 completed -> 202\n",
		"served 3 request(s), sent 1 notification(s)",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	tok := strings.TrimPrefix(r.auth, "Bearer ")
	if tok == "" || strings.Contains(printed, tok) || strings.Contains(printed, strings.Split(tok, ".")[2]) {
		t.Errorf("output shows a token:\n%s", printed)
	}
}

func TestScriptedForgeryAndTermination(t *testing.T) {
	cb, got := botCallback(t)
	path := filepath.Join(t.TempDir(), "script.json")
	script := `{"c3": [{"kind": "pending", "notify": "completed", "forgery": "expired"},
	                   {"kind": "status", "status": "completed", "notify": "terminated"}]}`
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	base, out, stop := serve(t, "-callback", cb, "-app-id", testApp, "-script", path)
	defer stop()
	url := base + "/communications/calls/c3/updateRecordingStatus"
	post(t, url, update)
	r := await(t, got, "the forged notification")
	if err := verifyToken(t, base, r); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("forged token: %v, want an expired one", err)
	}
	if resp, m := post(t, url, update); resp.StatusCode != 200 || m["status"] != "completed" {
		t.Fatalf("second reply %d %v", resp.StatusCode, m)
	}
	if rd := resourceData(t, await(t, got, "the termination")); rd["state"] != "terminated" {
		t.Errorf("termination %v", rd)
	}
	if resp, m := post(t, url, update); resp.StatusCode != 404 || m["error"] == nil {
		t.Errorf("after termination: %d %v, want 404 with Graph's error body", resp.StatusCode, m)
	}
	out.waitFor(t, "completed (forged: expired) -> ") // its outcome, before stop could cancel it
	stop()
	if !strings.Contains(out.String(), "completed (forged: expired) -> 202") {
		t.Errorf("output lacks the forged delivery:\n%s", out.String())
	}
}

func TestRefusalsAndUnknownCalls(t *testing.T) {
	base, _, stop := serve(t, "-calls", "c1,c2", "-call", "c1", "-fault", "nonCompliance", "-fault", "forbidden")
	defer stop()
	for _, tc := range []struct {
		call, code string
		status     int
	}{{"c1", "8506", 403}, {"c1", "Forbidden", 403}, {"c1", "", 200}, {"c2", "", 200}, {"c9", "8501", 404}} {
		resp, m := post(t, base+"/communications/calls/"+tc.call+"/updateRecordingStatus", update)
		e, _ := m["error"].(map[string]any)
		if resp.StatusCode != tc.status || (tc.code != "" && e["code"] != tc.code) {
			t.Errorf("%s: %d %v, want %d %s", tc.call, resp.StatusCode, m, tc.status, tc.code)
		}
	}
}

func TestRefusesBadNotifyInput(t *testing.T) {
	var out syncBuffer
	for _, args := range [][]string{
		{"-call", "c", "-fault", "pending,notify=completed"},                                        // no callback
		{"-callback", "http://127.0.0.1:9/cb"},                                                      // no app ID
		{"-callback", "http://example.com/cb", "-app-id", "a"},                                      // not loopback
		{"-callback", "http://127.0.0.1:9/cb", "-app-id", "a", "-call", "c", "-fault", "pending,x"}, // not key=value
		{"-callback", "http://127.0.0.1:9/cb", "-app-id", "a", "-call", "c", "-fault", "throttle,notify=completed"},
		{"-callback", "http://127.0.0.1:9/cb", "-app-id", "a", "-call", "c", "-fault", "pending,notify=completed,forgery=sideways"},
		{"-callback", "http://127.0.0.1:9/cb", "-app-id", "a", "-call", "c", "-fault", "pending,notify=completed,delay=soon"},
		{"-callback", "http://127.0.0.1:9/cb", "-app-id", "a", "-call", "c", "-fault", "pending:completed"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // a run that wrongly starts returns at once
		if err := run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &out, nil); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
