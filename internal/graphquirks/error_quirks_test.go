package graphquirks

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// graphErrorWith writes a non-2xx reply with body and headers.
func graphErrorWith(code int, contentType, body string, headers ...string) func(http.ResponseWriter, seenRequest) {
	return func(w http.ResponseWriter, req seenRequest) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// asGraphError returns the *graph.Error in err, failing the test without one.
func asGraphError(t *testing.T, err error) *graph.Error {
	t.Helper()
	var ge *graph.Error
	if !errors.As(err, &ge) {
		t.Fatalf("want a *graph.Error, got %v", err)
	}
	return ge
}

// Error replies that must not be retried: each is one request, a
// *graph.Error that carries what Graph said, and never a confirmation.
func TestErrorRepliesThatAreFinal(t *testing.T) {
	const envelope = `{"error":{"code":"%CODE","message":"%MSG","innerError":{"date":"2024-05-01T10:00:00","request-id":"rid-1","client-request-id":"crid-1"}}}`
	env := func(code, msg string) string {
		return strings.NewReplacer("%CODE", code, "%MSG", msg).Replace(envelope)
	}
	fields := func(status int, code string, nonCompliance bool) func(*testing.T, graph.Operation, error) {
		return func(t *testing.T, _ graph.Operation, err error) {
			ge := asGraphError(t, err)
			if ge.StatusCode != status || ge.Code != code {
				t.Errorf("got HTTP %d code %q, want %d %q", ge.StatusCode, ge.Code, status, code)
			}
			if ge.NonCompliance() != nonCompliance || graph.IsNonCompliance(err) != nonCompliance {
				t.Errorf("NonCompliance %v, want %v: %v", ge.NonCompliance(), nonCompliance, err)
			}
			if ge.Temporary() {
				t.Errorf("HTTP %d is Temporary", status)
			}
		}
	}
	runQuirks(t, []quirk{
		{name: "400 BadRequest", want: httpError, answer: graphErrorWith(400, "application/json", env("BadRequest", "Invalid status")),
			check: func(t *testing.T, op graph.Operation, err error) {
				fields(400, "BadRequest", false)(t, op, err)
				ge := asGraphError(t, err)
				if ge.RequestID != "rid-1" || ge.Date == "" {
					t.Errorf("innerError's request-id/date not read: %+v", ge)
				}
			}},
		{name: "401 with WWW-Authenticate", want: httpError,
			answer: graphErrorWith(401, "application/json", env("InvalidAuthenticationToken", "Access token has expired or is not yet valid."),
				"WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`),
			check: fields(401, "InvalidAuthenticationToken", false)},
		{name: "403 Forbidden", want: httpError, answer: graphErrorWith(403, "application/json", env("Forbidden", "Insufficient privileges")),
			check: fields(403, "Forbidden", false)},
		{name: "403 code 8506", want: httpError,
			answer: graphErrorWith(403, "application/json", env("8506", "API call not allowed for non-Compliance Recording call")),
			check:  fields(403, "8506", true)},
		{name: "403 with 8506 as the inner code", want: httpError,
			answer: graphErrorWith(403, "application/json", `{"error":{"code":"Forbidden","message":"not allowed","innerError":{"code":"8506","request-id":"r"}}}`),
			check:  fields(403, "Forbidden", true)},
		{name: "404 for a terminated call", want: httpError,
			answer: graphErrorWith(404, "application/json", env("8501", "Call "+callID+" not found")),
			check: func(t *testing.T, op graph.Operation, err error) {
				fields(404, "8501", false)(t, op, err)
				if !strings.Contains(err.Error(), "terminated") {
					t.Errorf("a 404's error does not say the call may have ended: %v", err)
				}
			}},
		{name: "409 Conflict", want: httpError, answer: graphErrorWith(409, "application/json", env("Conflict", "conflict")), check: fields(409, "Conflict", false)},
		{name: "500 with an empty body", want: httpError, answer: graphErrorWith(500, "", "")},
		{name: "400 with HTML from a proxy", want: httpError,
			answer: graphErrorWith(400, "text/html", "<html><head><title>400 Bad Request</title></head><body><h1>Bad Request</h1></body></html>"),
			check: func(t *testing.T, _ graph.Operation, err error) {
				if !strings.Contains(err.Error(), "400 Bad Request") || !strings.Contains(err.Error(), "text/html") {
					t.Errorf("the error does not show what the proxy sent: %v", err)
				}
			}},
		{name: "error envelope pretty, escaped, reordered", want: httpError,
			answer: graphErrorWith(403, "application/json; charset=utf-8", "{\n  \"error\" : {\n    \"innerError\" : { \"request-id\" : \"rid-2\" },\n    \"message\" : \"caf\\u00e9 \\/ not allowed\",\n    \"code\" : \"Forbidden\"\n  }\n}"),
			check: func(t *testing.T, _ graph.Operation, err error) {
				ge := asGraphError(t, err)
				if ge.Code != "Forbidden" || ge.Message != "café / not allowed" || ge.RequestID != "rid-2" {
					t.Errorf("envelope misread: %+v", ge)
				}
			}},
		{name: "innererror in OData's lower case", want: httpError,
			answer: graphErrorWith(403, "application/json", `{"error":{"code":"Forbidden","message":"m","innererror":{"code":"8506"}}}`),
			check:  fields(403, "Forbidden", true)},
		{name: "429 carrying 8506 is not retried", want: httpError,
			answer: graphErrorWith(429, "application/json", env("8506", "API call not allowed for non-Compliance Recording call"), "Retry-After", "0"),
			check: func(t *testing.T, _ graph.Operation, err error) {
				if !graph.IsNonCompliance(err) {
					t.Errorf("not NonCompliance: %v", err)
				}
			}},
	})
}

// Throttling and unavailability: retried, honouring Retry-After, with the
// same clientContext and client-request-id; what is finally answered is
// what the client returns.
func TestRetriedReplies(t *testing.T) {
	type step = func(http.ResponseWriter, seenRequest)
	completed := func(w http.ResponseWriter, req seenRequest) {
		reply(w, req.OperationURL("op"), pageReply(req.ClientContext, "completed"))
	}
	cases := []struct {
		name    string
		first   step
		minWait time.Duration
	}{
		{"429 without Retry-After", graphErrorWith(429, "application/json", `{"error":{"code":"TooManyRequests","message":"slow down"}}`), 0},
		{"429 Retry-After 1 second", graphErrorWith(429, "application/json", `{"error":{"code":"TooManyRequests","message":"slow down"}}`, "Retry-After", "1"), 900 * time.Millisecond},
		{"503 with HTML from a gateway", graphErrorWith(503, "text/html", "<html><body>Service Unavailable</body></html>"), 0},
		{"504 with no body", graphErrorWith(504, "", ""), 0},
		{"503 Retry-After as an HTTP date in the past", graphErrorWith(503, "", "", "Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"), 0},
		{"429 Retry-After as a date in the future", func(w http.ResponseWriter, req seenRequest) {
			graphErrorWith(429, "", "", "Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))(w, req)
		}, 900 * time.Millisecond},
		{"429 unparseable Retry-After", graphErrorWith(429, "", "", "Retry-After", "soon"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				if req.N == 1 {
					tc.first(w, req)
					return
				}
				completed(w, req)
			})
			cc := "cc-retry"
			began := time.Now()
			op, err := sendRecording(t, f, cc)
			took := time.Since(began)
			assertOutcome(t, confirmed, cc, op, err)
			noProblems(t, f)
			reqs := f.requests()
			if len(reqs) != 2 {
				t.Fatalf("the fake saw %d requests, want 2", len(reqs))
			}
			if reqs[0].ClientRequestID == "" || reqs[0].ClientRequestID != reqs[1].ClientRequestID || reqs[0].ClientContext != reqs[1].ClientContext {
				t.Errorf("the retry is not the same request: %+v then %+v", reqs[0], reqs[1])
			}
			if took < tc.minWait {
				t.Errorf("retried after %s, Graph asked for at least %s", took, tc.minWait)
			}
		})
	}
}

// A Retry-After longer than the client's cap is not retried early: the
// *graph.Error comes back at once with RetryAfter filled in, seconds or
// date alike.
func TestRetryAfterBeyondTheCap(t *testing.T) {
	for _, ra := range []string{"120", time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)} {
		t.Run(ra, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				graphErrorWith(429, "application/json", `{"error":{"code":"TooManyRequests","message":"slow down"}}`, "Retry-After", ra)(w, req)
			})
			began := time.Now()
			op, err := sendRecording(t, f, "cc-cap", graph.WithRetryAfterCap(5*time.Second))
			assertOutcome(t, httpError, "cc-cap", op, err)
			ge := asGraphError(t, err)
			if ge.RetryAfter < 80*time.Second {
				t.Errorf("RetryAfter %s, want about what Graph asked", ge.RetryAfter)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d requests: retried before Graph's Retry-After", n)
			}
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("took %s to give up", d)
			}
		})
	}
}

// Retries run out: the last error comes back, still a *graph.Error, and
// the number of requests is the configured attempts.
func TestRetriesRunOut(t *testing.T) {
	t.Parallel()
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		writeGraphError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "try later")
	})
	op, err := sendRecording(t, f, "cc-out", graph.WithMaxAttempts(3))
	assertOutcome(t, httpError, "cc-out", op, err)
	if ge := asGraphError(t, err); ge.StatusCode != 503 || !ge.Temporary() {
		t.Errorf("want the 503, got %+v", ge)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

// A redirect is never followed: the token would go with it.
func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	elsewhere := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		reply(w, req.OperationURL("op"), `{"status":"completed"}`)
	})
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		http.Redirect(w, r, elsewhere.base()+"/communications/calls/"+callID+"/updateRecordingStatus", http.StatusTemporaryRedirect)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	op, err := newClient(t, f).UpdateRecordingStatus(ctx, callID, graph.StatusRecording, "cc-redirect")
	if !errors.Is(err, graph.ErrRedirect) || op != (graph.Operation{}) {
		t.Fatalf("want ErrRedirect and the zero Operation, got %+v, %v", op, err)
	}
	noToken(t, err)
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
