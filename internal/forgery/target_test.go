package forgery_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

// completedFor is a commsNotifications body saying the recording operation
// opID of callID, with clientContext cc, completed.
func completedFor(callID, opID, cc string) []byte {
	return []byte(notificationsOf(operationItem(callID, opID, cc, "completed")))
}

func operationItem(callID, opID, cc, status string) string {
	return fmt.Sprintf(`{"@odata.type":"#microsoft.graph.commsNotification","changeType":"deleted",`+
		`"resourceUrl":"/communications/calls/%s/operations/%s",`+
		`"resourceData":{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation",`+
		`"id":%q,"clientContext":%q,"status":%q,"resultInfo":null}}`, callID, opID, opID, cc, status)
}

func notificationsOf(items ...string) string {
	return `{"@odata.type":"#microsoft.graph.commsNotifications","value":[` + strings.Join(items, ",") + `]}`
}

// defaultBody is what every token attack carries: a completed for a pending
// recording, the one notification a forger wants accepted.
var defaultBody = completedFor("0b0e0000-1111-4222-8333-444455556666", "op-1", "cc-1")

// target is the real callback Handler, with its real Validator fetching this
// package's Microsoft's keys, served on loopback, handing what it accepts to
// a receiver that records it.
type target struct {
	ms  *microsoft
	url string

	mu      sync.Mutex
	handed  []graph.Notification
	rejects []callback.RejectReason
}

// newTarget builds the handler. The validator's fetch timeout is short so
// that the slow-endpoint attacks finish in a fraction of a second.
func newTarget(t testing.TB, ms *microsoft, vopts ...callback.ValidatorOption) *target {
	t.Helper()
	opts := append([]callback.ValidatorOption{
		callback.WithOpenIDConfigURL(ms.configURL()),
		callback.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}),
		callback.WithFetchTimeout(500 * time.Millisecond),
	}, vopts...)
	v, err := callback.NewValidator(appID, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return newTargetWith(t, ms, v)
}

// newTargetWith builds the handler around a validator the test made.
func newTargetWith(t testing.TB, ms *microsoft, v *callback.Validator) *target {
	t.Helper()
	tg := &target{ms: ms}
	recv := callback.ReceiverFunc(func(_ context.Context, n graph.Notification) error {
		tg.mu.Lock()
		tg.handed = append(tg.handed, n)
		tg.mu.Unlock()
		return nil
	})
	h, err := callback.NewHandler(recv, v, callback.WithLogger(slog.New(slog.DiscardHandler)),
		callback.WithRejectHook(func(r callback.RejectReason) {
			tg.mu.Lock()
			tg.rejects = append(tg.rejects, r)
			tg.mu.Unlock()
		}))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	tg.url = srv.URL + "/api/calling"
	return tg
}

// outcome is what one request came to: the status, the reason the handler
// gave (empty when it accepted), how many notifications it handed on, and
// the reply's Retry-After (empty when none).
type outcome struct {
	status     int
	reason     callback.RejectReason
	handed     int
	retryAfter string
}

func (o outcome) String() string {
	s := fmt.Sprintf("status %d, reason %q, %d handed on", o.status, o.reason, o.handed)
	if o.retryAfter != "" {
		s += fmt.Sprintf(", Retry-After %q", o.retryAfter)
	}
	return s
}

// send POSTs body with the given Authorization headers (none if empty) and
// reports the outcome. edit may change the request further.
func (tg *target) send(t testing.TB, auth []string, body []byte, edit func(*http.Request)) outcome {
	t.Helper()
	tg.mu.Lock()
	handedBefore, rejectsBefore := len(tg.handed), len(tg.rejects)
	tg.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tg.url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, a := range auth {
		req.Header.Add("Authorization", a)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST to the handler: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	tg.mu.Lock()
	defer tg.mu.Unlock()
	o := outcome{status: resp.StatusCode, handed: len(tg.handed) - handedBefore, retryAfter: resp.Header.Get("Retry-After")}
	if len(tg.rejects) > rejectsBefore {
		o.reason = tg.rejects[len(tg.rejects)-1]
	}
	return o
}

// bearer sends token as "Bearer <token>" with the default body.
func (tg *target) bearer(t testing.TB, token string) outcome {
	t.Helper()
	return tg.send(t, []string{"Bearer " + token}, defaultBody, nil)
}

// wantRefused fails unless o is a refusal with status and reason, that
// handed nothing on.
func wantRefused(t testing.TB, o outcome, status int, reason callback.RejectReason) {
	t.Helper()
	if o.status != status || o.handed != 0 || (reason != "" && o.reason != reason) {
		t.Errorf("got %v; want status %d, reason %q, nothing handed on", o, status, reason)
	}
}

// wantDeferred fails unless o is a 503 with reason RejectUnknownKey and a
// Retry-After of at least one whole second, that handed nothing on: the
// answer to a token under a kid the cached key set lacks while the key set
// may not be fetched again (Graph delivers it again later).
func wantDeferred(t testing.TB, o outcome) {
	t.Helper()
	if !isDeferred(o) {
		t.Errorf("got %v; want status 503, reason %q, Retry-After >= 1, nothing handed on", o, callback.RejectUnknownKey)
	}
}

// isDeferred reports whether o is the answer wantDeferred wants.
func isDeferred(o outcome) bool {
	secs, err := strconv.Atoi(o.retryAfter)
	return o.status == http.StatusServiceUnavailable && o.reason == callback.RejectUnknownKey && o.handed == 0 && err == nil && secs >= 1
}

// wantAccepted fails unless o is a 202 that handed on n notifications.
func wantAccepted(t testing.TB, o outcome, n int) {
	t.Helper()
	if o.status != http.StatusAccepted || o.handed != n {
		t.Errorf("got %v; want 202 with %d handed on", o, n)
	}
}

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)

// serve serves h on loopback for the test and returns its callback URL.
func serve(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/calling"
}
