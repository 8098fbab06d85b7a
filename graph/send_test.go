package graph_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
)

// The client hands requests straight to the RoundTripper only when that is
// all http.Client.Do would do: with a cookie jar or a Timeout on the
// http.Client given to WithHTTPClient, requests still go through Do, so
// the jar's cookies are sent and the Timeout ends a hung attempt.
func TestClientKeepsTheHTTPClientsJarAndTimeout(t *testing.T) {
	t.Run("jar", func(t *testing.T) {
		var cookies []string
		var mu sync.Mutex
		_, ops := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			cookies = append(cookies, r.Header.Get("Cookie"))
			mu.Unlock()
			writeJSON(w, "", `{"id":"op-1","clientContext":"cc","status":"completed"}`)
		})
		base, err := url.Parse(ops)
		require.NoError(t, err)
		jar, err := cookiejar.New(nil)
		require.NoError(t, err)
		jar.SetCookies(base, []*http.Cookie{{Name: "affinity", Value: "node-7", Path: "/"}})
		c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base.Scheme+"://"+base.Host+"/v1.0"),
			graph.WithHTTPClient(&http.Client{Jar: jar}))
		require.NoError(t, err)
		_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"affinity=node-7"}, cookies)
	})
	t.Run("timeout", func(t *testing.T) {
		base, requests := silentGraph(t, false)
		c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(base), graph.WithMaxAttempts(1),
			graph.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
		require.NoError(t, err)
		runWithWatchdog(t, 10*time.Second, "UpdateRecordingStatus against a silent Graph with http.Client.Timeout 50ms", func() {
			_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "Client.Timeout")
		assert.Equal(t, "POST /v1.0/communications/calls/"+call+"/updateRecordingStatus", <-requests)
	})
}

// The Authorization header is made once per token, not once per request:
// a token source that hands out a new token is followed at once, and each
// request carries the token its attempt got.
func TestClientSendsTheCurrentToken(t *testing.T) {
	var mu sync.Mutex
	var got []string
	c, _ := scriptedGraph(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		writeJSON(w, "", `{"id":"op-1","clientContext":"cc","status":"completed"}`)
	})
	tokens := []string{"token-a", "token-a", "token-b", "token-a", "token-c"}
	next := 0
	rotating := graph.TokenSourceFunc(func(context.Context) (graph.AccessToken, error) {
		tok := tokens[next]
		next++
		return graph.NewAccessToken(tok, time.Time{}), nil
	})
	base := strings.TrimSuffix(c.BaseURL(), "/")
	c, err := graph.NewClient(rotating, graph.WithBaseURL(base))
	require.NoError(t, err)
	for range tokens {
		_, err := c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
		require.NoError(t, err)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"Bearer token-a", "Bearer token-a", "Bearer token-b", "Bearer token-a", "Bearer token-c"}, got)
}

// countingTransport counts the requests it carries.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int32
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// WithHTTPClient takes a copy of the http.Client: its Transport at that
// moment carries the requests, and one set on the caller's client later
// does not (the doc says so; a review read it the other way).
func TestClientUsesTheTransportGivenToNewClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, "", `{"id":"op-1","clientContext":"cc","status":"completed"}`)
	}))
	t.Cleanup(srv.Close)
	var given, later atomic.Int32
	hc := srv.Client()
	base := hc.Transport
	hc.Transport = countingTransport{next: base, n: &given}
	c, err := graph.NewClient(graph.StaticToken(secret), graph.WithBaseURL(srv.URL+"/v1.0"), graph.WithHTTPClient(hc))
	require.NoError(t, err)
	hc.Transport = countingTransport{next: base, n: &later}
	_, err = c.UpdateRecordingStatus(context.Background(), call, graph.StatusRecording, "cc")
	require.NoError(t, err)
	assert.Equal(t, int32(1), given.Load(), "the Transport given to NewClient carried no request")
	assert.Equal(t, int32(0), later.Load(), "a Transport set after NewClient carried a request")
}
