package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

func attemptClient(t *testing.T, faults ...graphtest.Fault) (*graph.Client, *graphtest.Server) {
	t.Helper()
	fake := graphtest.NewServer(graphtest.WithToken("t"))
	t.Cleanup(fake.Close)
	fake.AddCall("call-1").Then(faults...)
	c, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()),
		graph.WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	return c, fake
}

// A throttled request reports both of its attempts: the 429 with its
// Retry-After and Graph's code, then the 200, under one client-request-id.
func TestAttemptReporterSeesEveryAttempt(t *testing.T) {
	c, _ := attemptClient(t, graphtest.Throttle("0"), graphtest.ReplyStatus("running"))
	var got []graph.Attempt
	ctx := graph.WithAttemptReporter(context.Background(), func(a graph.Attempt) { got = append(got, a) })
	op, err := c.UpdateRecordingStatus(ctx, "call-1", graph.StatusRecording, "cc-1")
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, 1, got[0].Number)
	assert.Equal(t, http.StatusTooManyRequests, got[0].StatusCode)
	assert.NotEmpty(t, got[0].Code)
	assert.True(t, got[0].Retryable)
	assert.Error(t, got[0].Err)
	assert.Equal(t, 2, got[1].Number)
	assert.Equal(t, http.StatusOK, got[1].StatusCode)
	assert.NoError(t, got[1].Err)
	assert.Equal(t, http.MethodPost, got[1].Method)
	assert.Equal(t, got[0].ClientRequestID, got[1].ClientRequestID, "one client-request-id per request")
	assert.NotEmpty(t, got[1].ClientRequestID)
	assert.Equal(t, op.RequestID, got[1].RequestID)
	assert.False(t, got[1].Started.Before(got[0].Started))
}

// An error reply reports its HTTP status and Graph's code: 8506 for a
// call that is not a compliance-recording call, Forbidden for a missing
// permission; neither is retryable.
func TestAttemptReporterNamesGraphErrorCodes(t *testing.T) {
	for fault, code := range map[string]string{"nonCompliance": graph.CodeNonComplianceCall, "forbidden": "Forbidden"} {
		t.Run(fault, func(t *testing.T) {
			f := graphtest.NonCompliant()
			if fault == "forbidden" {
				f = graphtest.Forbidden()
			}
			c, _ := attemptClient(t, f)
			var got []graph.Attempt
			ctx := graph.WithAttemptReporter(context.Background(), func(a graph.Attempt) { got = append(got, a) })
			_, err := c.UpdateRecordingStatus(ctx, "call-1", graph.StatusRecording, "cc-1")
			require.Error(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, http.StatusForbidden, got[0].StatusCode)
			assert.Equal(t, code, got[0].Code)
			assert.False(t, got[0].Retryable)
		})
	}
}

func TestAttemptReporterNilIsIgnored(t *testing.T) {
	ctx := context.Background()
	assert.Equal(t, ctx, graph.WithAttemptReporter(ctx, nil))
}

// Every HTTP attempt of a request is reported, retries included: here a
// throttled request and its retry.
func ExampleWithAttemptReporter() {
	fake := graphtest.NewServer(graphtest.WithToken("t"))
	defer fake.Close()
	fake.AddCall("call-1").Then(graphtest.Throttle("0"), graphtest.ReplyStatus("completed"))
	c, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()),
		graph.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := graph.WithAttemptReporter(context.Background(), func(a graph.Attempt) {
		fmt.Printf("attempt %d: %s HTTP %d %q\n", a.Number, a.Method, a.StatusCode, a.Code)
	})
	op, err := c.UpdateRecordingStatus(ctx, "call-1", graph.StatusRecording, "my-context-1")
	fmt.Println(op.Status, err)
	// Output:
	// attempt 1: POST HTTP 429 "TooManyRequests"
	// attempt 2: POST HTTP 200 ""
	// completed <nil>
}
