package graphquirks

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

// Reading a pending operation back from its Location (Client.Operation):
// the POST answers running with a Location, the GET answers get. The
// fetched operation must be the one the POST created.
func TestOperationFromLocation(t *testing.T) {
	const cc = "cc-loc"
	cases := []struct {
		name string
		get  string // the GET's body; "" answers 404
		// postBody is the POST's body ("" for a bodyless 202).
		postBody string
		want     outcome
	}{
		{name: "completed for our clientContext", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"@odata.context":"x","@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"cc-loc","id":"op-1","resultInfo":null,"status":"Completed"}`, want: confirmed},
		{name: "completed, no clientContext, our id", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"id":"op-1","status":"completed"}`, want: confirmed},
		{name: "completed for another clientContext", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"clientContext":"someone-else","id":"op-1","status":"completed"}`, want: badReply},
		{name: "completed with another id", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"clientContext":"cc-loc","id":"op-2","status":"completed"}`, want: badReply},
		{name: "completed naming nothing", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"status":"completed"}`, want: badReply},
		{name: "failed 8506", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"clientContext":"cc-loc","id":"op-1","status":"failed","resultInfo":{"code":403,"subcode":8506,"message":"no"}}`, want: refused},
		{name: "still running", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`,
			get: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`, want: pending},
		{name: "after a bodyless 202, our id", get: `{"id":"op-1","status":"completed"}`, want: confirmed},
		{name: "operation gone: 404", postBody: `{"clientContext":"cc-loc","id":"op-1","status":"running"}`, want: httpError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
				switch {
				case r.Method == http.MethodPost && tc.postBody == "":
					w.Header().Set("Location", req.OperationURL("op-1"))
					w.WriteHeader(http.StatusAccepted)
				case r.Method == http.MethodPost:
					reply(w, req.OperationURL("op-1"), tc.postBody)
				case tc.get == "":
					writeGraphError(w, http.StatusNotFound, "NotFound", "operation not found")
				default:
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(tc.get))
				}
			})
			c := newClient(t, f)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			op, err := c.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, cc)
			assertOutcome(t, pending, cc, op, err)
			got, err := c.Operation(ctx, callID, op)
			assertOutcome(t, tc.want, cc, got, err)
			if tc.want == refused && !graph.IsNonCompliance(err) {
				t.Errorf("a polled 8506 is not NonCompliance: %v", err)
			}
			noProblems(t, f)
		})
	}
}

// A Location the client must not fetch with its token: another host, a
// relative reference, another call. Nothing is sent anywhere.
func TestLocationsNotFetched(t *testing.T) {
	t.Parallel()
	elsewhere := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		reply(w, "", `{"status":"completed"}`)
	})
	var loc atomic.Value // the Location the POST answers with
	f := newFakeGraph(t, func(w http.ResponseWriter, r *http.Request, req seenRequest) {
		reply(w, loc.Load().(string), `{"clientContext":"cc","id":"op-1","status":"running"}`)
	})
	for _, l := range []string{
		elsewhere.base() + "/communications/calls/" + callID + "/operations/op-1",
		// Debatable: RFC 9110 allows a relative Location; the client
		// refuses it rather than resolve it against the request.
		"/v1.0/communications/calls/" + callID + "/operations/op-1",
		f.base() + "/communications/calls/another-call/operations/op-1",
		f.base() + "/communications/calls/" + callID + "/operations/op-1/../../../other",
		f.base() + "/communications/calls/" + callID + "/operations/op-1?$select=status",
	} {
		loc.Store(l)
		c := newClient(t, f)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		op, err := c.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, "cc")
		if err != nil {
			cancel()
			t.Fatalf("POST: %v", err)
		}
		before := len(f.requests())
		got, err := c.Operation(ctx, callID, op)
		cancel()
		if !errors.Is(err, graph.ErrUntrustedLocation) || got != (graph.Operation{}) {
			t.Errorf("Location %q: want ErrUntrustedLocation, got %+v, %v", l, got, err)
		}
		if len(f.requests()) != before {
			t.Errorf("Location %q was fetched", l)
		}
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("another host got %d requests with the token", n)
	}
}
