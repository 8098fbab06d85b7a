package graph_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// scriptedGraph is a loopback server whose every answer the test writes:
// for replies the fake does not play. It returns a client for it and the
// operations URL prefix of call.
func scriptedGraph(t *testing.T, h http.HandlerFunc) (*graph.Client, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := srv.URL + "/v1.0"
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base), graph.WithHTTPClient(srv.Client()),
		graph.WithAttemptTimeout(5*time.Second))
	require.NoError(t, err)
	return c, base + "/communications/calls/" + call + "/operations/"
}

func writeJSON(w http.ResponseWriter, location, body string) {
	if location != "" {
		w.Header().Set("Location", location)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", "req-1")
	_, _ = io.WriteString(w, body)
}

// A 2xx with a Location and no body means "accepted, outcome to come": a
// pending operation (missing status) that keeps its Location and takes its
// ID from it, not ErrBadReply. Without a Location it stays ErrBadReply.
func TestClientBodylessReplyWithLocationIsPending(t *testing.T) {
	for _, code := range []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			var ops string
			c, ops := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", ops+"op-202")
				w.Header().Set("request-id", "req-202")
				w.WriteHeader(code)
			})
			op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc-202")
			require.NoError(t, err)
			assert.True(t, op.Status.Pending(), "status %q", op.Status)
			assert.False(t, op.Status.Confirmed())
			assert.Equal(t, ops+"op-202", op.Location)
			assert.Equal(t, "op-202", op.ID)
			assert.Equal(t, "req-202", op.RequestID)
			assert.NotEmpty(t, op.ClientRequestID)
		})
	}
	t.Run("no Location", func(t *testing.T) {
		c, _ := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
		op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		assert.ErrorIs(t, err, graph.ErrBadReply)
		assert.ErrorContains(t, err, "empty body and no Location")
		assert.Equal(t, graph.Operation{}, op)
	})
}

// The pending operation of a bodyless 202 can be followed: the fetched
// body matches it by id (the 202 carried no clientContext).
func TestClientFollowsABodylessReply(t *testing.T) {
	var ops string
	c, ops := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Header().Set("Location", ops+"op-9")
			w.WriteHeader(http.StatusAccepted)
			return
		}
		writeJSON(w, "", `{"id":"op-9","clientContext":"cc-9","status":"completed"}`)
	})
	op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc-9")
	require.NoError(t, err)
	got, err := c.Operation(context.Background(), call, op)
	require.NoError(t, err)
	assert.True(t, got.Status.Confirmed())
	assert.Equal(t, "op-9", got.ID)
	assert.Equal(t, ops+"op-9", got.Location)
}

// The ID comes from the Location's last segment when the body has none,
// as Operation.ID's doc says; a body id wins.
func TestClientFillsIDFromLocation(t *testing.T) {
	for _, tc := range []struct{ name, body, segment, want string }{
		{"no id", `{"clientContext":"cc","status":"running"}`, "op-from-location", "op-from-location"},
		{"escaped", `{"clientContext":"cc","status":"running"}`, "op%20x", "op x"},
		{"body id", `{"id":"op-body","clientContext":"cc","status":"running"}`, "op-from-location", "op-body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ops string
			c, ops := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, ops+tc.segment, tc.body) })
			op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
			require.NoError(t, err)
			assert.Equal(t, tc.want, op.ID)
		})
	}
}

// A reply for another clientContext is ErrBadReply, and the completed in
// it reaches the caller nowhere: the Operation is zero.
func TestClientReplyForAnotherClientContextIsZero(t *testing.T) {
	c, _ := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, "", `{"id":"op-x","clientContext":"someone-else","status":"completed"}`)
	})
	op, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "mine")
	assert.ErrorIs(t, err, graph.ErrBadReply)
	assert.ErrorContains(t, err, `"someone-else"`)
	assert.Equal(t, graph.Operation{}, op)
}

// Client.Operation checks that what it fetched is the operation asked for,
// as UpdateRecordingStatus checks its reply: a completed that belongs to
// another operation is ErrBadReply and the zero Operation, never a success.
func TestClientOperationMustBelongToTheRequest(t *testing.T) {
	pending := func(ops string) graph.Operation {
		return graph.Operation{ID: "op-1", ClientContext: "cc-1", Status: graph.OperationRunning, Location: ops + "op-1"}
	}
	cases := []struct {
		name    string
		body    string
		asked   func(ops string) graph.Operation
		wantErr string // "" for a match
	}{
		{"same clientContext and id", `{"id":"op-1","clientContext":"cc-1","status":"completed"}`, pending, ""},
		{"same clientContext, no id", `{"clientContext":"cc-1","status":"completed"}`, pending, ""},
		{"no clientContext, same id", `{"id":"op-1","status":"completed"}`, pending, ""},
		{"another clientContext", `{"id":"op-1","clientContext":"cc-2","status":"completed"}`, pending, `clientContext "cc-2"`},
		{"another clientContext, no id", `{"clientContext":"cc-2","status":"completed"}`, pending, `clientContext "cc-2"`},
		{"no clientContext, another id", `{"id":"op-2","status":"completed"}`, pending, `id "op-2"`},
		{"same clientContext, another id", `{"id":"op-2","clientContext":"cc-1","status":"completed"}`, pending, `id "op-2"`},
		{"names nothing", `{"status":"completed"}`, pending, "names neither"},
		{"asked by Location only, body id matches it", `{"id":"op-1","clientContext":"cc-9","status":"completed"}`,
			func(ops string) graph.Operation { return graph.Operation{Location: ops + "op-1"} }, ""},
		{"asked by Location only, body has only a clientContext", `{"clientContext":"cc-9","status":"completed"}`,
			func(ops string) graph.Operation { return graph.Operation{Location: ops + "op-1"} }, "names neither"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ops := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodGet, r.Method)
				writeJSON(w, "", tc.body)
			})
			got, err := c.Operation(context.Background(), call, tc.asked(ops))
			if tc.wantErr == "" {
				require.NoError(t, err)
				assert.True(t, got.Status.Confirmed())
				assert.Equal(t, "op-1", got.ID)
				return
			}
			assert.ErrorIs(t, err, graph.ErrBadReply)
			assert.ErrorContains(t, err, tc.wantErr)
			assert.Equal(t, graph.Operation{}, got, "nothing the caller could take for completed")
		})
	}
}

// A failed operation whose resultInfo carries 8506 is a policy refusal,
// like an HTTP 8506: *OperationError.NonCompliance and IsNonCompliance say
// so, and the message says what to check. Other failures are not.
func TestOperationErrorNonCompliance(t *testing.T) {
	cases := []struct {
		ri   graph.ResultInfo
		want bool
	}{
		{graph.ResultInfo{Code: 403, Subcode: 8506, Message: "API call not allowed for non-Compliance Recording call"}, true},
		{graph.ResultInfo{Code: 8506}, true},
		{graph.ResultInfo{Code: 500, Subcode: 7000, Message: "media down"}, false},
	}
	for _, tc := range cases {
		s := newFake(t)
		s.AddCall(call).Then(graphtest.ReplyFailed(tc.ri))
		op, err := newClient(t, s).UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		var oe *graph.OperationError
		require.ErrorAs(t, err, &oe, "%+v", tc.ri)
		assert.Equal(t, tc.want, oe.NonCompliance(), "%+v", tc.ri)
		assert.Equal(t, tc.want, graph.IsNonCompliance(err), "%+v", tc.ri)
		assert.Equal(t, tc.want, strings.Contains(err.Error(), "compliance recording policy"), "%+v: the message says what to check", tc.ri)
		assert.Equal(t, graph.Operation{}, op)
		assert.Equal(t, "cc", oe.Operation.ClientContext, "the error carries the operation")
		assert.Len(t, s.Requests(), 1)
	}
	assert.False(t, (&graph.OperationError{}).NonCompliance(), "no resultInfo is not a policy refusal")
	assert.True(t, graph.IsNonCompliance(&graph.Error{StatusCode: 403, Code: graph.CodeNonComplianceCall}))
	assert.False(t, graph.IsNonCompliance(&graph.Error{StatusCode: 403, Code: "Forbidden"}))
	assert.False(t, graph.IsNonCompliance(nil))
}

// An error for a reply without a request-id header names no empty id; it
// names the client-request-id the client sent, which Microsoft support
// can look up too.
func TestErrorsNameOnlyTheIDsKnown(t *testing.T) {
	var sent string
	c, _ := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
		sent = r.Header.Get("client-request-id")
		w.WriteHeader(http.StatusOK) // an empty 200, no request-id
	})
	_, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "ctx-ids")
	require.ErrorIs(t, err, graph.ErrBadReply)
	assert.NotContains(t, err.Error(), "[request-id ]")
	require.NotEmpty(t, sent)
	assert.Contains(t, err.Error(), "[client-request-id "+sent+"]")
}

// A failed operation without an id or clientContext names neither as "".
func TestOperationErrorNamesOnlyWhatItHas(t *testing.T) {
	bare := (&graph.OperationError{Operation: graph.Operation{Status: graph.OperationFailed}}).Error()
	assert.NotContains(t, bare, `""`)
	full := (&graph.OperationError{Operation: graph.Operation{ID: "op-1", ClientContext: "cc-1", Status: graph.OperationFailed}}).Error()
	assert.Contains(t, full, `operation "op-1"`)
	assert.Contains(t, full, `clientContext "cc-1"`)
}
