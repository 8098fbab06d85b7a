package graphquirks

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// The fake Graph of this package. It is written from the API page
// (POST {base}/communications/calls/{id}/updateRecordingStatus, a JSON body
// {"clientContext", "status"}, a 200 with a Location and an
// updateRecordingStatusOperation) and owes nothing to graph/graphtest.
//
// Each test gives it a script: a function that answers one request. The
// fake checks what every request must carry whatever the script answers
// (the bearer token, the Content-Type, the path, the body's shape) and
// keeps a log the tests read.

// Names the tests share.
const (
	callID = "57dab8b1-894c-409a-b240-bd8beae78896"
	// bearer is the token the client sends; it must never appear in an
	// error the client returns.
	bearer = "quirks-token-do-not-print"
)

// seenRequest is one request as the fake received it.
type seenRequest struct {
	Method          string
	Path            string
	ClientContext   string // from the POST body
	Status          string // from the POST body
	ClientRequestID string
	// Problem is what the request got wrong, "" when nothing: the fake
	// answers such a request 400 itself, and tests assert there is none.
	Problem string
	// N counts the fake's requests from 1.
	N int
	// Base is the fake's base URL as this request reached it.
	Base string
	// Earlier are the requests the fake saw before this one.
	Earlier []seenRequest
}

// OperationURL is the Location of operation opID of the test call.
func (r seenRequest) OperationURL(opID string) string {
	return r.Base + "/communications/calls/" + callID + "/operations/" + opID
}

// script answers one request.
type script func(w http.ResponseWriter, r *http.Request, req seenRequest)

// fakeGraph is a loopback TLS server that plays Graph.
type fakeGraph struct {
	srv    *httptest.Server
	answer script

	mu   sync.Mutex
	seen []seenRequest
}

// newFakeGraph starts a fake Graph answering with s; it stops with the test.
func newFakeGraph(t *testing.T, s script) *fakeGraph {
	t.Helper()
	return startFakeGraph(t, s, false)
}

// newFakeGraphHTTP2 is newFakeGraph speaking HTTP/2, as Graph's front
// doors do with clients that offer it.
func newFakeGraphHTTP2(t *testing.T, s script) *fakeGraph {
	t.Helper()
	return startFakeGraph(t, s, true)
}

func startFakeGraph(t *testing.T, s script, http2 bool) *fakeGraph {
	f := &fakeGraph{answer: s}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.EnableHTTP2 = http2
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

// base is the fake's Graph base URL, as the client is configured with it.
func (f *fakeGraph) base() string { return f.srv.URL + "/v1.0" }

// requests returns a copy of the log.
func (f *fakeGraph) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

func (f *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	req := seenRequest{Method: r.Method, Path: r.URL.Path, ClientRequestID: r.Header.Get("client-request-id"),
		Base: "https://" + r.Host + "/v1.0"}
	req.Problem = checkRequest(r, &req)
	f.mu.Lock()
	req.N = len(f.seen) + 1
	req.Earlier = append([]seenRequest(nil), f.seen...)
	f.seen = append(f.seen, req)
	f.mu.Unlock()
	if req.Problem != "" {
		writeGraphError(w, http.StatusBadRequest, "BadRequest", req.Problem)
		return
	}
	f.answer(w, r, req)
}

// checkRequest says what a request gets wrong by the API page, or "".
func checkRequest(r *http.Request, req *seenRequest) string {
	if r.Header.Get("Authorization") != "Bearer "+bearer {
		return "Authorization is not the bearer token"
	}
	prefix := "/v1.0/communications/calls/" + callID + "/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		return "path " + r.URL.Path + " is not under the call"
	}
	switch {
	case r.Method == http.MethodPost && rest == "updateRecordingStatus":
	case r.Method == http.MethodGet && strings.HasPrefix(rest, "operations/") && !strings.Contains(rest[len("operations/"):], "/"):
		return ""
	default:
		return r.Method + " " + r.URL.Path + " is not updateRecordingStatus nor an operation"
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "Content-Type " + ct
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		return "reading the body: " + err.Error()
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return "body is not a JSON object: " + err.Error()
	}
	if len(body) != 2 {
		return fmt.Sprintf("body has %d members, want clientContext and status", len(body))
	}
	cc, _ := body["clientContext"].(string)
	st, _ := body["status"].(string)
	req.ClientContext, req.Status = cc, st
	switch {
	case cc == "" || len([]rune(cc)) > graph.MaxClientContextLen:
		return fmt.Sprintf("clientContext of %d characters", len([]rune(cc)))
	case st != "notRecording" && st != "recording" && st != "failed":
		return "status " + st
	}
	return ""
}

// writeGraphError writes Graph's error envelope.
func writeGraphError(w http.ResponseWriter, code int, errCode, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = fmt.Fprintf(w, `{"error":{"code":%q,"message":%q,"innerError":{"date":%q,"request-id":"fake-req","client-request-id":"fake-creq"}}}`,
		errCode, message, time.Now().UTC().Format("2006-01-02T15:04:05"))
}

// reply writes a 200 with a JSON body and a Location, as the API page shows.
func reply(w http.ResponseWriter, location, body string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "fake-request-id")
	_, _ = io.WriteString(w, body)
}

// pageReply is the reply on the API page, for clientContext cc and status.
func pageReply(cc, status string) string {
	return `{
  "@odata.type": "#microsoft.graph.updateRecordingStatusOperation",
  "clientContext": ` + quote(cc) + `,
  "id": "0fe0623f-d628-42ed-b4bd-8ac290072cc5",
  "resultInfo": null,
  "status": ` + quote(status) + `
}`
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// newClient is a graph.Client for f with short waits, so retries and
// timeouts take milliseconds.
func newClient(t *testing.T, f *fakeGraph, opts ...graph.ClientOption) *graph.Client {
	t.Helper()
	all := append([]graph.ClientOption{
		graph.WithBaseURL(f.base()),
		graph.WithHTTPClient(f.srv.Client()),
		graph.WithBackoff(time.Millisecond, 4*time.Millisecond),
		graph.WithAttemptTimeout(5 * time.Second),
	}, opts...)
	c, err := graph.NewClient(graph.StaticToken(bearer), all...)
	if err != nil {
		t.Fatalf("graph.NewClient: %v", err)
	}
	return c
}

// noProblems fails the test if a request the fake saw broke the API page.
func noProblems(t *testing.T, f *fakeGraph) {
	t.Helper()
	for i, r := range f.requests() {
		if r.Problem != "" {
			t.Errorf("request %d (%s %s) broke the API page: %s", i+1, r.Method, r.Path, r.Problem)
		}
	}
}

// noToken fails the test if err's text carries the bearer token.
func noToken(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), bearer) {
		t.Errorf("the error carries the bearer token: %v", err)
	}
}
