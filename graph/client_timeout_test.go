package graph_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// silentGraph is a loopback listener that reads each request and then
// says nothing, ever; or, with partial set, answers 200 with half a body
// and then says nothing. Each request read is sent on the returned
// channel, so a test can wait for it instead of sleeping.
func silentGraph(t *testing.T, partial bool) (baseURL string, requests <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	got := make(chan string, 16)
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				if partial {
					_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"status\":")
				}
				select {
				case got <- req.Method + " " + req.URL.Path:
				default:
				}
				<-done // hold the connection open, silent, until the test ends
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/v1.0", got
}

// runWithWatchdog runs f and fails the test, naming what hung, if it has
// not returned within limit.
func runWithWatchdog(t *testing.T, limit time.Duration, what string, f func()) {
	t.Helper()
	finished := make(chan struct{})
	go func() { defer close(finished); f() }()
	select {
	case <-finished:
	case <-time.After(limit):
		t.Fatalf("%s still blocked after %s", what, limit)
	}
}

// quickAttempt is the attempt timeout of these tests: short, so they stay
// fast, yet long enough for a loaded machine to connect and send the
// request (and read a reply's headers) within it, or the silent Graph
// would see fewer requests than the client made, and a body that never
// ends would look like headers that never came.
const quickAttempt = time.Second

// A Graph that accepts the connection and never answers cannot hold a call
// whose context has no deadline: each attempt ends at the attempt timeout,
// the request is retried (no reply came), and the final error is a
// deadline.
func TestClientAttemptTimeoutBoundsAHungGraph(t *testing.T) {
	base, requests := silentGraph(t, false)
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base),
		graph.WithAttemptTimeout(quickAttempt), graph.WithMaxAttempts(2), graph.WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)
	var op graph.Operation
	runWithWatchdog(t, 10*time.Second, "UpdateRecordingStatus against a silent Graph with no context deadline", func() {
		op, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc-hung")
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, graph.ErrAttemptTimeout)
	assert.ErrorContains(t, err, "gave up after 2 attempts")
	assert.Equal(t, graph.Operation{}, op)
	for i := 0; i < 2; i++ {
		select {
		case r := <-requests:
			assert.Equal(t, "POST /v1.0/communications/calls/"+call+"/updateRecordingStatus", r)
		case <-time.After(5 * time.Second):
			t.Fatalf("the silent Graph saw %d requests, want 2 (one retry after the timeout)", i)
		}
	}
}

// The attempt timeout covers the reply body too, and a deadline while
// reading it (the caller's or the attempt's) is a deadline to errors.Is,
// not a bare "unusable reply".
func TestClientDeadlineWhileReadingTheBodyIsADeadline(t *testing.T) {
	base, _ := silentGraph(t, true)
	t.Run("attempt timeout", func(t *testing.T) {
		c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base), graph.WithAttemptTimeout(quickAttempt))
		require.NoError(t, err)
		var op graph.Operation
		runWithWatchdog(t, 10*time.Second, "UpdateRecordingStatus reading a body that never ends", func() {
			op, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, graph.ErrAttemptTimeout)
		assert.ErrorIs(t, err, graph.ErrBadReply)
		assert.ErrorContains(t, err, "reading the body")
		assert.Equal(t, graph.Operation{}, op)
	})
	t.Run("caller's deadline", func(t *testing.T) {
		c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), quickAttempt)
		defer cancel()
		var op graph.Operation
		runWithWatchdog(t, 10*time.Second, "UpdateRecordingStatus reading a body that never ends", func() {
			op, err = c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc")
		})
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, errors.Is(err, graph.ErrAttemptTimeout), "the caller's deadline came first: %v", err)
		assert.Equal(t, graph.Operation{}, op)
	})
}

// A connection that drops mid-body keeps the transport's error in the
// chain (%w), so callers can tell a truncation from a refusal.
func TestClientTruncatedBodyWrapsTheReadError(t *testing.T) {
	s := newFake(t)
	s.AddCall(call).Then(graphtest.TruncatedJSON())
	op, err := newClient(t, s).UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	assert.ErrorIs(t, err, graph.ErrBadReply)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, graph.Operation{}, op)
}

func TestWithAttemptTimeoutRefusesNonPositive(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := graph.NewClient(graph.StaticToken("t"), graph.WithAttemptTimeout(d))
		assert.ErrorContains(t, err, "WithAttemptTimeout", "%s", d)
	}
	_, err := graph.NewClient(graph.StaticToken("t"), graph.WithAttemptTimeout(time.Second))
	assert.NoError(t, err)
}
