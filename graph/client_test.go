package graph_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

const (
	call   = "57dab8b1-894c-409a-b240-bd8beae78896"
	secret = "s3cret-token-value"
)

func newFake(t *testing.T, opts ...graphtest.Option) *graphtest.Server {
	t.Helper()
	s := graphtest.NewServer(append([]graphtest.Option{graphtest.WithToken(secret)}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *graphtest.Server, opts ...graph.ClientOption) *graph.Client {
	t.Helper()
	base := []graph.ClientOption{graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()), graph.WithBackoff(time.Millisecond, 5*time.Millisecond)}
	c, err := graph.NewClient(graph.StaticToken(secret), append(base, opts...)...)
	require.NoError(t, err)
	return c
}

func TestClientSuccessLooksLikeTheAPIPage(t *testing.T) {
	s := newFake(t)
	s.AddCall(call)
	c := newClient(t, s)
	op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc-1")
	require.NoError(t, err)
	assert.Equal(t, graph.OperationCompleted, op.Status)
	assert.Equal(t, "cc-1", op.ClientContext)
	assert.Equal(t, graph.OperationODataType, op.ODataType)
	assert.NotEmpty(t, op.ID)
	assert.Nil(t, op.ResultInfo)
	assert.Equal(t, s.BaseURL()+"/communications/calls/"+call+"/operations/"+op.ID, op.Location)
	assert.NotEmpty(t, op.RequestID)
	assert.NotEmpty(t, op.ClientRequestID)

	reqs := s.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/v1.0/communications/calls/"+call+"/updateRecordingStatus", r.Path)
	assert.Equal(t, "recording", r.Status)
	assert.Equal(t, "cc-1", r.ClientContext)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Contains(t, r.Header.Get("User-Agent"), "recgate/"+graph.Version)
	assert.Equal(t, op.ClientRequestID, r.Header.Get("client-request-id"))
	assert.Equal(t, "Bearer [redacted]", r.Header.Get("Authorization"), "the log never holds the token")
	assert.Equal(t, 200, r.Reply)
}

func TestClientPascalCaseStatus(t *testing.T) {
	s := newFake(t, graphtest.WithPascalCase())
	s.AddCall(call)
	op, err := newClient(t, s).UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	require.NoError(t, err)
	assert.True(t, op.Status.Confirmed())
}

// Every fault against the client: what it returns, and how many requests it
// took.
func TestClientFaults(t *testing.T) {
	future := graphtest.RetryAfterDate(time.Now().Add(2 * time.Second))
	cases := []struct {
		name     string
		faults   []graphtest.Fault
		requests int
		check    func(t *testing.T, op graph.Operation, err error)
	}{
		{"429 seconds then ok", []graphtest.Fault{graphtest.Throttle("0")}, 2, ok(graph.OperationCompleted)},
		{"429 date then ok", []graphtest.Fault{graphtest.Throttle(future)}, 2, ok(graph.OperationCompleted)},
		{"429 no retry-after then ok", []graphtest.Fault{graphtest.Throttle("")}, 2, ok(graph.OperationCompleted)},
		{"503 then ok", []graphtest.Fault{graphtest.Unavailable("")}, 2, ok(graph.OperationCompleted)},
		{"503 retry-after then ok", []graphtest.Fault{graphtest.Unavailable("0")}, 2, ok(graph.OperationCompleted)},
		{"504 then ok", []graphtest.Fault{graphtest.GatewayTimeout()}, 2, ok(graph.OperationCompleted)},
		{"reset then ok", []graphtest.Fault{graphtest.ResetConnection()}, 2, ok(graph.OperationCompleted)},
		{"latency", []graphtest.Fault{graphtest.Latency(20 * time.Millisecond)}, 1, ok(graph.OperationCompleted)},
		{"429 three times gives up", []graphtest.Fault{graphtest.Throttle("0"), graphtest.Throttle("0"), graphtest.Throttle("0"), graphtest.Throttle("0")}, 3, httpErr(429, "gave up after 3 attempts")},
		{"500 not retried", []graphtest.Fault{graphtest.InternalError()}, 1, httpErr(500, "InternalServerError")},
		{"502 html", []graphtest.Fault{graphtest.BadGatewayHTML()}, 1, httpErr(502, "text/html")},
		{"truncated", []graphtest.Fault{graphtest.TruncatedJSON()}, 1, badReply("reading the body")},
		{"malformed", []graphtest.Fault{graphtest.MalformedJSON()}, 1, badReply("not an updateRecordingStatusOperation")},
		{"empty 200", []graphtest.Fault{graphtest.EmptyOK()}, 1, badReply("empty body")},
		{"wrong content type", []graphtest.Fault{graphtest.WrongContentType()}, 1, badReply("text/plain")},
		{"oversized", []graphtest.Fault{graphtest.Oversized()}, 1, badReply("larger than")},
		{"notStarted", []graphtest.Fault{graphtest.ReplyStatus("notStarted")}, 1, ok(graph.OperationNotStarted)},
		{"running", []graphtest.Fault{graphtest.ReplyStatus("running")}, 1, ok(graph.OperationRunning)},
		{"null status", []graphtest.Fault{graphtest.ReplyStatus("null")}, 1, ok("")},
		{"unknown status", []graphtest.Fault{graphtest.ReplyStatus("Exploded")}, 1, badReply("unknown operation status")},
		{"failed with resultInfo", []graphtest.Fault{graphtest.ReplyFailed(graph.ResultInfo{Code: 500, Subcode: 7000, Message: "media down"})}, 1,
			func(t *testing.T, op graph.Operation, err error) {
				var oe *graph.OperationError
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, 7000, oe.Operation.ResultInfo.Subcode)
				assert.Contains(t, err.Error(), "media down")
				assert.False(t, op.Status.Confirmed())
			}},
		{"redirect refused", []graphtest.Fault{graphtest.RedirectForeign()}, 1, func(t *testing.T, _ graph.Operation, err error) {
			assert.ErrorIs(t, err, graph.ErrRedirect)
		}},
		{"terminated", []graphtest.Fault{graphtest.TerminateCall()}, 1, httpErr(404, "call ID")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newFake(t)
			s.AddCall(call).Then(c.faults...)
			cl := newClient(t, s)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			op, err := cl.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-fault")
			c.check(t, op, err)
			reqs := s.Requests()
			assert.Len(t, reqs, c.requests)
			// One client-request-id per logical request, kept across retries.
			for _, r := range reqs {
				assert.Equal(t, reqs[0].Header.Get("client-request-id"), r.Header.Get("client-request-id"))
			}
			assert.Empty(t, s.RedirectHits(), "nothing reached the foreign host")
			if err != nil {
				assert.NotContains(t, err.Error(), secret)
				assert.Equal(t, graph.Operation{}, op, "every error comes with the zero Operation")
			}
		})
	}
}

func ok(want graph.OperationStatus) func(*testing.T, graph.Operation, error) {
	return func(t *testing.T, op graph.Operation, err error) {
		require.NoError(t, err)
		assert.Equal(t, want, op.Status)
		assert.Equal(t, want == graph.OperationCompleted, op.Status.Confirmed(), "only completed is a success")
	}
}

func httpErr(code int, contains string) func(*testing.T, graph.Operation, error) {
	return func(t *testing.T, op graph.Operation, err error) {
		var ge *graph.Error
		require.ErrorAs(t, err, &ge)
		assert.Equal(t, code, ge.StatusCode)
		assert.Contains(t, err.Error(), contains)
		if code != http.StatusBadGateway { // a gateway's HTML page carries no Graph ids
			assert.NotEmpty(t, ge.RequestID)
		}
		assert.NotEmpty(t, ge.ClientRequestID)
		assert.False(t, op.Status.Confirmed())
	}
}

func badReply(contains string) func(*testing.T, graph.Operation, error) {
	return func(t *testing.T, op graph.Operation, err error) {
		assert.ErrorIs(t, err, graph.ErrBadReply)
		assert.ErrorContains(t, err, contains)
		assert.False(t, op.Status.Confirmed())
	}
}

func TestClientNonComplianceNeverRetried(t *testing.T) {
	s := newFake(t)
	s.AddCall(call).NonCompliance()
	_, err := newClient(t, s).UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.True(t, ge.NonCompliance())
	assert.Equal(t, 403, ge.StatusCode)
	assert.Contains(t, err.Error(), "compliance recording policy")
	assert.Len(t, s.Requests(), 1)
}

func TestClientUnknownCall404(t *testing.T) {
	s := newFake(t)
	_, err := newClient(t, s).UpdateRecordingStatus(context.Background(), "no-such-call", graph.StatusRecording, "cc")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 404, ge.StatusCode)
}

func TestClientWrongTokenIs401AndNotLeaked(t *testing.T) {
	s := newFake(t)
	s.AddCall(call)
	c, err := graph.NewClient(graph.StaticToken("wrong-"+secret), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 401, ge.StatusCode)
	assert.NotContains(t, err.Error(), secret)
	assert.Contains(t, err.Error(), "token")
}

func TestClientHangEndsWithContext(t *testing.T) {
	s := newFake(t)
	s.AddCall(call).Then(graphtest.Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := newClient(t, s).UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClientRetryAfterBeyondDeadlineGivesUpAtOnce(t *testing.T) {
	s := newFake(t)
	s.AddCall(call).Then(graphtest.Throttle("30")) // within the cap, beyond the deadline
	// The deadline leaves a loaded machine's TLS exchange all the time it
	// needs, and is still shorter than the Retry-After.
	const deadline = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	op, err := newClient(t, s).UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc")
	assert.ErrorContains(t, err, "would pass the context's deadline")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 30*time.Second, ge.RetryAfter)
	assert.Less(t, time.Since(start), deadline/2, "gave up at once, not at the deadline")
	assert.Len(t, s.Requests(), 1)
	assert.Equal(t, graph.Operation{}, op)
}

// A Retry-After longer than the cap is not cut short: retrying at the cap
// would come earlier than Graph asked. The *Error comes back at once with
// RetryAfter filled in, in seconds or as a date.
func TestClientRetryAfterBeyondCapIsReturnedNotShortened(t *testing.T) {
	for name, retryAfter := range map[string]string{
		"seconds": "3600",
		"date":    graphtest.RetryAfterDate(time.Now().Add(2 * time.Hour)),
	} {
		t.Run(name, func(t *testing.T) {
			s := newFake(t)
			s.AddCall(call).Then(graphtest.Throttle(retryAfter))
			c := newClient(t, s, graph.WithRetryAfterCap(10*time.Millisecond))
			start := time.Now()
			op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
			var ge *graph.Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, 429, ge.StatusCode)
			assert.Greater(t, ge.RetryAfter, 59*time.Minute, "RetryAfter says when Graph will take it")
			assert.ErrorContains(t, err, "longer than the client's cap of 10ms")
			assert.Len(t, s.Requests(), 1, "no early retry at the cap")
			// At once: not after the Retry-After (an hour), with room for a
			// loaded machine's TLS exchange.
			assert.Less(t, time.Since(start), 10*time.Second)
			assert.Equal(t, graph.Operation{}, op)
		})
	}
}

func TestClientNewConnectionAfter503(t *testing.T) {
	s := newFake(t)
	s.AddCall(call).Then(graphtest.Unavailable("0"))
	_, err := newClient(t, s).UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	require.NoError(t, err)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "close", strings.ToLower(reqs[1].Header.Get("Connection")), "the retry after a 503 asks for a fresh connection")
}

func TestClientValidatesBeforeSending(t *testing.T) {
	s := newFake(t, graphtest.WithAnyCall())
	c := newClient(t, s)
	ctx := context.Background()
	for _, tc := range []struct {
		callID, cc string
		status     graph.Status
	}{
		{"", "cc", graph.StatusRecording},
		{"a/b", "cc", graph.StatusRecording},
		{"a?b", "cc", graph.StatusRecording},
		{"a#b", "cc", graph.StatusRecording},
		{"a%2e", "cc", graph.StatusRecording},
		{"a\nb", "cc", graph.StatusRecording},
		{".", "cc", graph.StatusRecording},
		{"..", "cc", graph.StatusRecording},
		{strings.Repeat("x", 300), "cc", graph.StatusRecording},
		{call, "cc", "Recording"},
		{call, "cc", "paused"},
		{call, "", graph.StatusRecording},
		{call, strings.Repeat("c", 257), graph.StatusRecording},
	} {
		_, err := c.UpdateRecordingStatus(ctx, tc.callID, tc.status, tc.cc)
		assert.ErrorIs(t, err, graph.ErrInvalidRequest, "%q %q %q", tc.callID, tc.status, tc.cc)
	}
	assert.Empty(t, s.Requests(), "nothing sent for bad input")
}

func TestClientBaseURLRules(t *testing.T) {
	for _, good := range []string{graph.DefaultBaseURL, graph.BetaBaseURL, graph.USGovBaseURL, graph.ChinaBaseURL, "http://127.0.0.1:8080/v1.0", "http://localhost/v1.0", "http://[::1]:1/beta"} {
		_, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(good))
		assert.NoError(t, err, good)
	}
	for _, bad := range []string{"http://graph.microsoft.com/v1.0", "ftp://x/v1.0", "https:///v1.0", "https://u:p@graph.microsoft.com/v1.0", "https://graph.microsoft.com/v1.0?x=1", "http://10.0.0.1/v1.0"} {
		_, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(bad))
		assert.Error(t, err, bad)
	}
	_, err := graph.NewClient(nil)
	assert.ErrorContains(t, err, "nil TokenSource")
	_, err = graph.NewClient(graph.StaticToken("t"), graph.WithMaxAttempts(0))
	assert.Error(t, err)
	_, err = graph.NewClient(graph.StaticToken("t"), graph.WithHTTPClient(nil))
	assert.Error(t, err)
}

func TestClientUsesBeta(t *testing.T) {
	s := newFake(t)
	s.AddCall(call)
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(s.URL+"/beta"), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusNotRecording, "cc")
	require.NoError(t, err)
	assert.Equal(t, "/beta/communications/calls/"+call+"/updateRecordingStatus", s.Requests()[0].Path)
}

func TestClientLocationIsData(t *testing.T) {
	for _, kind := range []string{"missing", "relative", "http", "foreign", "otherCall"} {
		t.Run(kind, func(t *testing.T) {
			s := newFake(t)
			s.AddCall(call).Then(graphtest.BadLocation(kind), graphtest.ReplyStatus("running"))
			c := newClient(t, s)
			op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
			require.NoError(t, err)
			_, err = c.Operation(context.Background(), call, op)
			assert.ErrorIs(t, err, graph.ErrUntrustedLocation)
			assert.Len(t, s.Requests(), 1, "no GET was sent")
			assert.Empty(t, s.RedirectHits(), "the token went nowhere")
		})
	}
}

func TestClientFetchesTrustedOperation(t *testing.T) {
	s := newFake(t)
	fc := s.AddCall(call).Then(graphtest.ReplyStatus("running"))
	c := newClient(t, s)
	ctx := context.Background()
	op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc")
	require.NoError(t, err)
	require.True(t, op.Status.Pending())
	require.NoError(t, fc.SetOperationStatus(op.ID, graph.OperationCompleted))
	got, err := c.Operation(ctx, call, op)
	require.NoError(t, err)
	assert.Equal(t, graph.OperationCompleted, got.Status)
	assert.Equal(t, op.ID, got.ID)
	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodGet, reqs[1].Method)
	// The same Location does not pass for another call.
	_, err = c.Operation(ctx, "another-call", op)
	assert.ErrorIs(t, err, graph.ErrUntrustedLocation)
}

func TestFakeChecksRequestsAsGraphDoes(t *testing.T) {
	s := newFake(t, graphtest.WithAnyCall())
	hc := s.Client()
	url := s.BaseURL() + "/communications/calls/" + call + "/updateRecordingStatus"
	send := func(auth, contentType, encoding string, body []byte) *http.Response {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", contentType)
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	good := []byte(`{"clientContext":"c","status":"recording"}`)
	assert.Equal(t, 401, send("", "application/json", "", good).StatusCode)
	assert.Equal(t, 401, send("Bearer wrong", "application/json", "", good).StatusCode)
	assert.Equal(t, 415, send("Bearer "+secret, "text/plain", "", good).StatusCode)
	assert.Equal(t, 400, send("Bearer "+secret, "application/json", "", []byte(`{`)).StatusCode)
	assert.Equal(t, 400, send("Bearer "+secret, "application/json", "", []byte(`{"clientContext":"c","status":"paused"}`)).StatusCode)
	assert.Equal(t, 400, send("Bearer "+secret, "application/json", "", []byte(`{"clientContext":"`+strings.Repeat("c", 257)+`","status":"recording"}`)).StatusCode)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(good)
	require.NoError(t, zw.Close())
	assert.Equal(t, 200, send("Bearer "+secret, "application/json; charset=utf-8", "gzip", gz.Bytes()).StatusCode, "gzip bodies are accepted")
}

func TestFakeRedirectRecordsAuthorization(t *testing.T) {
	// A careless client that follows redirects with the token shows up in
	// the fake's record; recgate's client never gets there.
	s := newFake(t)
	s.AddCall(call).Then(graphtest.RedirectForeign())
	careless := &http.Client{Transport: s.Client().Transport, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		req.Header.Set("Authorization", via[0].Header.Get("Authorization"))
		return nil
	}}
	req, _ := http.NewRequest(http.MethodPost, s.BaseURL()+"/communications/calls/"+call+"/updateRecordingStatus", strings.NewReader(`{"clientContext":"c","status":"recording"}`))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := careless.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	hits := s.RedirectHits()
	require.Len(t, hits, 1)
	assert.True(t, hits[0].AuthorizationSent)
}

// One call's requests go one at a time and in order, even from many
// goroutines; different calls proceed in parallel.
func TestClientConcurrentCalls(t *testing.T) {
	s := newFake(t, graphtest.WithAnyCall())
	c := newClient(t, s)
	const calls, perCall = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, calls*perCall)
	for i := 0; i < calls; i++ {
		id := fmt.Sprintf("call-%d", i)
		s.AddCall(id).Then(graphtest.Throttle("0"), graphtest.Latency(2*time.Millisecond), graphtest.Unavailable(""))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perCall; j++ {
				st := graph.StatusRecording
				if j%2 == 1 {
					st = graph.StatusNotRecording
				}
				if _, err := c.UpdateRecordingStatus(context.Background(), id, st, fmt.Sprintf("%s-%d", id, j)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Per call, the successful requests arrive in the order they were made.
	seen := map[string]int{}
	for _, r := range s.Requests() {
		if r.Reply != 200 {
			continue
		}
		want := fmt.Sprintf("%s-%d", r.CallID, seen[r.CallID])
		assert.Equal(t, want, r.ClientContext)
		seen[r.CallID]++
	}
	assert.Len(t, seen, calls)
}

func TestClientLogsNoToken(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newFake(t)
	s.AddCall(call).Then(graphtest.Throttle("0"), graphtest.InternalError())
	c := newClient(t, s, graph.WithClientLogger(logger))
	_, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	require.Error(t, err)
	assert.Contains(t, buf.String(), "retrying")
	assert.NotContains(t, buf.String(), secret)
	assert.NotContains(t, fmt.Sprintf("%v %#v %s", graph.NewAccessToken(secret, time.Time{}), graph.NewAccessToken(secret, time.Now()), graph.NewAccessToken(secret, time.Time{})), secret)
}

func TestStaticTokenEmpty(t *testing.T) {
	s := newFake(t)
	s.AddCall(call)
	c, err := graph.NewClient(graph.StaticToken(""), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	assert.ErrorIs(t, err, graph.ErrNoToken)
	assert.Empty(t, s.Requests())
	failing := graph.TokenSourceFunc(func(context.Context) (graph.AccessToken, error) {
		return graph.AccessToken{}, errors.New("AADSTS7000215: invalid client secret")
	})
	c, err = graph.NewClient(failing, graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	assert.ErrorContains(t, err, "getting a token")
	assert.Empty(t, s.Requests())
}

func TestUpdateBodyIsValidJSONForAnyClientContext(t *testing.T) {
	s := newFake(t, graphtest.WithAnyCall())
	c := newClient(t, s)
	for _, cc := range []string{"plain", `quote"and\backslash`, "tab\tnew\nline", "héllo ✓", "\x7f"} {
		op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, cc)
		require.NoError(t, err, "%q", cc)
		assert.Equal(t, cc, op.ClientContext)
	}
	for i, r := range s.Requests() {
		assert.Equal(t, 200, r.Reply, "request %d", i)
	}
}
