package forgery_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

// TestRotatedKeyNotificationDeliveredAgain: Microsoft (here graph/graphtest's
// fake Graph) rotates its signing key just after the bot's validator fetched
// the key set. The next genuine notification, signed with the new key, comes
// within the refetch interval: the validator may not fetch the key set yet,
// so it answers 503 with Retry-After (the seconds left in the interval), and
// Graph, which drops a notification answered 401 for good, delivers it again.
// Delivered again after Retry-After, the same notification makes one fetch
// and is accepted. Meanwhile, and after, 20 forged tokens under made-up kids
// are deferred the same way and make no fetch at all.
//
// The validator's clock is the test's: the interval passes when the test
// says so, not by sleeping.
func TestRotatedKeyNotificationDeliveredAgain(t *testing.T) {
	watchdog := time.AfterFunc(20*time.Second, func() { panic("TestRotatedKeyNotificationDeliveredAgain hung past 20s") })
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	// What Graph sees of the callback's replies: the last Retry-After.
	graphSide := &retryAfterRecorder{base: http.DefaultTransport}
	fake := graphtest.NewServer(graphtest.WithCallbackClient(&http.Client{Transport: graphSide}))
	defer fake.Close()

	const interval = 3 * time.Second
	clock := newMovableClock()
	keyFetches := &requestCounter{base: fake.Client().Transport, url: fake.JWKSURL()}
	v, err := callback.NewValidator(appID,
		callback.WithOpenIDConfigURL(fake.OpenIDConfigURL()),
		callback.WithHTTPClient(&http.Client{Transport: keyFetches}),
		callback.WithFetchTimeout(2*time.Second),
		callback.WithKeyRefetchInterval(interval),
		callback.WithNow(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	tg := newTargetWith(t, nil, v)
	if err := fake.SetCallback(tg.url, appID); err != nil {
		t.Fatal(err)
	}
	callID := uuid.NewString()
	fake.AddCall(callID)
	completed := graphtest.Notification{CallID: callID, OperationID: "op-1", ClientContext: "cc-1", Status: graph.OperationCompleted}

	// deliver has the fake POST the genuine completed, and reports the
	// callback's status, its Retry-After and how many items it handed on.
	deliver := func(what string) (status int, retryAfter string, handed int) {
		t.Helper()
		tg.mu.Lock()
		before := len(tg.handed)
		tg.mu.Unlock()
		d, err := fake.Send(ctx, completed)
		if err != nil {
			t.Fatalf("%s: the fake's POST failed: %v", what, err)
		}
		tg.mu.Lock()
		defer tg.mu.Unlock()
		return d.StatusCode, graphSide.last(), len(tg.handed) - before
	}
	forge := func(round string) {
		t.Helper()
		before := keyFetches.count()
		for i := range 20 {
			wantDeferred(t, tg.bearer(t, withHeader(fmt.Sprintf("made-up-%s-%d", round, i), nil)(time.Now())))
		}
		if n := keyFetches.count() - before; n != 0 {
			t.Errorf("20 forged tokens under made-up kids (%s) made %d JWKS fetches, want 0", round, n)
		}
	}

	if status, _, handed := deliver("before the rotation"); status != http.StatusAccepted || handed != 1 {
		t.Fatalf("before the rotation: status %d, %d handed on; want 202 with 1 (the harness is broken)", status, handed)
	}
	if n := keyFetches.count(); n != 1 {
		t.Fatalf("the first token made %d JWKS fetches, want 1", n)
	}

	if _, err := fake.RotateKey(); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second)
	status, retryAfter, handed := deliver("signed with the new key, within the interval")
	if status != http.StatusServiceUnavailable || handed != 0 {
		t.Fatalf("signed with the new key, a second into the refetch interval: status %d, %d handed on; want 503 and nothing handed on (401 would make Graph drop it for good)", status, handed)
	}
	if retryAfter != "2" {
		t.Errorf("Retry-After %q, want \"2\" (the seconds left of the %v interval)", retryAfter, interval)
	}
	if got := tg.lastReject(); got != callback.RejectUnknownKey {
		t.Errorf("reject reason %q, want %q", got, callback.RejectUnknownKey)
	}
	forge("within the interval")
	if n := keyFetches.count(); n != 1 {
		t.Errorf("within the interval, %d JWKS fetches in all, want 1", n)
	}

	// Graph delivers it again once Retry-After has passed.
	secs, err := strconv.Atoi(retryAfter)
	if err != nil || secs < 1 {
		t.Fatalf("Retry-After %q is not a whole number of seconds of at least 1", retryAfter)
	}
	clock.advance(time.Duration(secs) * time.Second)
	if status, _, handed := deliver("delivered again after Retry-After"); status != http.StatusAccepted || handed != 1 {
		t.Fatalf("delivered again after Retry-After: status %d, %d handed on; want 202 with 1: the notification is lost", status, handed)
	}
	if n := keyFetches.count(); n != 2 {
		t.Errorf("the new key's redelivery made %d JWKS fetches in all, want 2 (one more)", n)
	}
	forge("after the refetch")
	if status, _, handed := deliver("the new key, cached"); status != http.StatusAccepted || handed != 1 {
		t.Errorf("the new key once cached: status %d, %d handed on; want 202 with 1", status, handed)
	}
	if n := keyFetches.count(); n != 2 {
		t.Errorf("%d JWKS fetches in all, want 2", n)
	}
}

// lastReject returns the reason of the last refusal, "" if none.
func (tg *target) lastReject() callback.RejectReason {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if len(tg.rejects) == 0 {
		return ""
	}
	return tg.rejects[len(tg.rejects)-1]
}

// retryAfterRecorder is the fake Graph's transport to the callback: it keeps
// the Retry-After of the last reply.
type retryAfterRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	ra   string
}

func (r *retryAfterRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.ra = resp.Header.Get("Retry-After")
		r.mu.Unlock()
	}
	return resp, err
}

func (r *retryAfterRecorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ra
}

// requestCounter is the validator's transport: it counts the requests for
// url (the JWKS).
type requestCounter struct {
	base http.RoundTripper
	url  string
	n    atomic.Int64
}

func (c *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.String() == c.url {
		c.n.Add(1)
	}
	return c.base.RoundTrip(req)
}

func (c *requestCounter) count() int64 { return c.n.Load() }
