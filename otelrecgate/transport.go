package otelrecgate

import (
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
)

// commonStatusCodes are the HTTP statuses whose attribute sets New builds
// in advance.
var commonStatusCodes = []int{200, 201, 202, 204, 307, 400, 401, 403, 404, 409, 415, 429, 500, 502, 503, 504}

// maxAwaitingRetry bounds how many request IDs the Transport remembers
// between a retryable reply and the retry that may follow it.
const maxAwaitingRetry = 4096

// Transport wraps next (http.DefaultTransport if nil) so that every HTTP
// attempt graph.Client makes is counted on the wire:
// recgate.graph.http.attempts and recgate.graph.http.duration by status
// code (error.type "transport" when no reply came), and
// recgate.graph.http.retries for an attempt that repeats an earlier one.
//
//	client, err := graph.NewClient(tokens,
//		graph.WithHTTPClient(&http.Client{Transport: m.Transport(nil)}))
//
// graph.Client retries 429, 503, 504 and lost replies by itself and does
// not report its retries; the Transport recognises one because graph.Client
// sends every attempt of one request with the same client-request-id
// header. It remembers the ids of attempts that got a retryable answer
// (at most a few thousand at a time: the oldest are forgotten first, so a
// retry after a storm of thousands may go uncounted).
func (m *Metrics) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{m: m, next: next}
}

type transport struct {
	m    *Metrics
	next http.RoundTripper
}

// RoundTrip sends one attempt and counts it.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	id := ""
	if v := r.Header["Client-Request-Id"]; len(v) > 0 {
		id = v[0]
	}
	if id != "" {
		if cause, ok := t.m.wire.retried(id); ok {
			t.m.retries.Add(ctx, 1, cause.add...)
		}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	elapsed := time.Since(start).Seconds()
	var o measureOptions
	retryable := false
	if err != nil {
		o, retryable = t.m.transportErr, true
	} else {
		o = t.m.statusOptions(resp.StatusCode)
		switch resp.StatusCode {
		case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			retryable = true
		}
	}
	t.m.attempts.Add(ctx, 1, o.add...)
	t.m.attemptDur.Record(ctx, elapsed, o.record...)
	if retryable && id != "" {
		t.m.wire.awaitRetry(id, o)
	}
	return resp, err
}

func (m *Metrics) statusOptions(code int) measureOptions {
	if o, ok := m.statusBy[code]; ok {
		return o
	}
	return optionsFor(attribute.Int(string(AttrHTTPStatus), code))
}

// retryTracker remembers request ids whose last attempt may be retried,
// with what that attempt got.
type retryTracker struct {
	// awaiting is len(cause), readable without the lock: most attempts
	// find no id awaiting a retry and need not take it.
	awaiting atomic.Int64
	mu       sync.Mutex
	cause    map[string]measureOptions
	order    []string // insertion order, for forgetting the oldest
}

func (w *retryTracker) init() { w.cause = make(map[string]measureOptions) }

func (w *retryTracker) awaitRetry(id string, cause measureOptions) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.cause[id]; !ok {
		for len(w.cause) >= maxAwaitingRetry && len(w.order) > 0 {
			delete(w.cause, w.order[0])
			w.order = w.order[1:]
		}
		w.order = append(w.order, id)
	}
	w.cause[id] = cause
	w.awaiting.Store(int64(len(w.cause)))
}

// retried reports whether id awaited a retry, and what caused it; the id
// is forgotten (a further retry is noted again by awaitRetry).
//
// An id is stored before the reply that makes it await a retry reaches
// the client, so the retry, sent after that reply, sees awaiting > 0.
func (w *retryTracker) retried(id string) (measureOptions, bool) {
	if w.awaiting.Load() == 0 {
		return measureOptions{}, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.cause[id]
	if ok {
		delete(w.cause, id)
		w.awaiting.Store(int64(len(w.cause)))
		for i, x := range w.order {
			if x == id {
				w.order = append(w.order[:i], w.order[i+1:]...)
				break
			}
		}
	}
	return c, ok
}
