package graph_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/recgate/recgate/graph"
)

// cannedReply is what the fake answers a recording request with: the API
// page's operation, as graphtest writes it.
const cannedReply = `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"bench-client-context","id":"0fe0623f-d628-42ed-b4bd-8ac290072cc5","resultInfo":null,"status":"completed"}` + "\n"

// cannedTransport answers every request in memory with cannedReply, so a
// benchmark through it measures only what runs on the caller's side: the
// client's own CPU, without the network, TLS or the fake.
type cannedTransport struct{}

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{
		StatusCode: http.StatusOK,
		Header: http.Header{
			"Content-Type":      {"application/json"},
			"Location":          {"http://127.0.0.1/v1.0/communications/calls/" + call + "/operations/0fe0623f-d628-42ed-b4bd-8ac290072cc5"},
			"Request-Id":        {"5b5d7c1a-3f0e-4e0f-9b4c-1d2e3f405162"},
			"Client-Request-Id": r.Header["Client-Request-Id"],
		},
		Body:          io.NopCloser(bytes.NewReader([]byte(cannedReply))),
		ContentLength: int64(len(cannedReply)),
		Request:       r,
	}, nil
}

// BenchmarkClientOverheadInMemory is the client's whole request path
// (validation, queue, token, request, reply parsing) against an in-memory
// transport. Its baseline, BenchmarkBareInMemoryBaseline, sends the same
// POST through the same transport as plainly as net/http allows: the
// difference is graph.Client's own CPU per request.
func BenchmarkClientOverheadInMemory(b *testing.B) {
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL("http://127.0.0.1/v1.0"),
		graph.WithHTTPClient(&http.Client{Transport: cannedTransport{}}))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "bench-client-context")
		if err != nil || !op.Status.Confirmed() {
			b.Fatal(op.Status, err)
		}
	}
}

func BenchmarkBareInMemoryBaseline(b *testing.B) {
	hc := &http.Client{Transport: cannedTransport{}}
	url := "http://127.0.0.1/v1.0/communications/calls/" + call + "/updateRecordingStatus"
	b.ReportAllocs()
	for b.Loop() {
		barePost(b, hc, url)
	}
}

// BenchmarkParseOperation decodes the reply body the client reads on every
// confirmed request.
func BenchmarkParseOperation(b *testing.B) {
	body := []byte(cannedReply)
	b.ReportAllocs()
	for b.Loop() {
		op, err := graph.ParseOperation(body)
		if err != nil || !op.Status.Confirmed() {
			b.Fatal(op.Status, err)
		}
	}
}
