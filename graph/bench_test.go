package graph_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// BenchmarkClientUpdateLoopback: the client's full request against the fake
// on loopback. Its baseline, BenchmarkRawHTTPLoopbackBaseline, is a bare
// net/http POST of the same body to the same fake with the same connection
// reuse: the ratio is what the client's care costs.
func BenchmarkClientUpdateLoopback(b *testing.B) {
	s := graphtest.NewServer(graphtest.WithToken(secret))
	defer s.Close()
	s.AddCall(call)
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "bench-client-context")
		if err != nil || !op.Status.Confirmed() {
			b.Fatal(op.Status, err)
		}
	}
}

func BenchmarkRawHTTPLoopbackBaseline(b *testing.B) {
	s := graphtest.NewServer(graphtest.WithToken(secret))
	defer s.Close()
	s.AddCall(call)
	hc := s.Client()
	url := s.BaseURL() + "/communications/calls/" + call + "/updateRecordingStatus"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		barePost(b, hc, url)
	}
}

// barePost is one updateRecordingStatus POST in plain net/http, the reply
// read whole: the baselines the client's benchmarks are compared with.
func barePost(b *testing.B, hc *http.Client, url string) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(bareBody))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
}

var bareBody = []byte(`{"clientContext":"bench-client-context","status":"recording"}`)
