package graph_test

import (
	"context"
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

// scriptedTokens hands out the tokens of its script in order, the last
// one for ever, and records what it was told was refused. With
// invalidates it is a graph.TokenInvalidator; without, only a
// graph.TokenSource (see plainTokens).
type scriptedTokens struct {
	mu          sync.Mutex
	script      []graph.AccessToken
	calls       int
	invalidated []graph.AccessToken
}

func (s *scriptedTokens) Token(context.Context) (graph.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.script[min(s.calls, len(s.script)-1)]
	s.calls++
	return tok, nil
}

func (s *scriptedTokens) InvalidateToken(tok graph.AccessToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
}

func (s *scriptedTokens) counts() (calls int, invalidated []graph.AccessToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]graph.AccessToken(nil), s.invalidated...)
}

// plainTokens hides InvalidateToken: a source that cannot be told.
type plainTokens struct{ s *scriptedTokens }

func (p plainTokens) Token(ctx context.Context) (graph.AccessToken, error) { return p.s.Token(ctx) }

const (
	revokedValue = "revoked-token-value"
	expiredValue = "expired-token-value"
)

// refreshFixture is the fake accepting only secret, and a client on it
// taking its tokens from tokens.
func refreshFixture(t *testing.T, tokens graph.TokenSource, opts ...graph.ClientOption) (*graphtest.Server, *graph.Client) {
	t.Helper()
	s := graphtest.NewServer(graphtest.WithToken(secret))
	t.Cleanup(s.Close)
	s.AddCall(call)
	base := []graph.ClientOption{graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()),
		graph.WithBackoff(time.Millisecond, time.Millisecond)}
	c, err := graph.NewClient(tokens, append(base, opts...)...)
	require.NoError(t, err)
	return s, c
}

func noSecrets(t *testing.T, text string) {
	t.Helper()
	for _, v := range []string{secret, revokedValue, expiredValue} {
		if strings.Contains(text, v) {
			t.Fatalf("a token value appears in %q", strings.ReplaceAll(text, v, "<token>"))
		}
	}
}

// TestExpiredTokenIsNotSent: a token already past its expiry is not sent;
// the client asks its source again and sends the fresh one.
func TestExpiredTokenIsNotSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	expired := graph.NewAccessToken(expiredValue, time.Now().Add(-time.Minute))
	fresh := graph.NewAccessToken(secret, time.Now().Add(time.Hour))
	tokens := &scriptedTokens{script: []graph.AccessToken{expired, fresh}}
	s, c := refreshFixture(t, tokens)

	op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-expired-once")
	require.NoError(t, err, "the expired token was sent (Graph answers 401 to it)")
	assert.True(t, op.Status.Confirmed())
	calls, invalidated := tokens.counts()
	assert.Equal(t, 2, calls, "the source is asked once more after an expired token")
	require.Len(t, invalidated, 1, "an invalidating source is told the expired token is stale")
	assert.Equal(t, expiredValue, invalidated[0].Value())
	reqs := s.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, http.StatusOK, reqs[0].Reply)
}

// TestTokenWithinExpiryMarginIsNotSent: a token expiring within
// TokenExpiryMargin counts as expired (clock skew).
func TestTokenWithinExpiryMarginIsNotSent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nearly := graph.NewAccessToken(expiredValue, time.Now().Add(graph.TokenExpiryMargin/2))
	fresh := graph.NewAccessToken(secret, time.Now().Add(time.Hour))
	tokens := &scriptedTokens{script: []graph.AccessToken{nearly, fresh}}
	s, c := refreshFixture(t, plainTokens{tokens})

	_, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-within-margin")
	require.NoError(t, err)
	calls, _ := tokens.counts()
	assert.Equal(t, 2, calls)
	assert.Len(t, s.Requests(), 1)
}

// TestExpiredTwiceFailsNamingTheExpiry: a source that returns an expired
// token twice fails the request before anything is sent, with an error
// that names the expiry and not the token.
func TestExpiredTwiceFailsNamingTheExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	expiry := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tokens := &scriptedTokens{script: []graph.AccessToken{graph.NewAccessToken(expiredValue, expiry)}}
	s, c := refreshFixture(t, plainTokens{tokens})
	var attempts []graph.Attempt
	ctx = graph.WithAttemptReporter(ctx, func(a graph.Attempt) { attempts = append(attempts, a) })

	op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-expired-twice")
	require.Error(t, err)
	assert.Equal(t, graph.Operation{}, op)
	assert.ErrorIs(t, err, graph.ErrTokenExpired)
	assert.Contains(t, err.Error(), "2026-01-02T03:04:05Z", "the error names the expiry")
	noSecrets(t, err.Error())
	calls, _ := tokens.counts()
	assert.Equal(t, 2, calls, "asked once more, not again and again")
	assert.Empty(t, s.Requests(), "an expired token is never sent")
	require.Len(t, attempts, 1)
	assert.False(t, attempts[0].Retryable)
	assert.ErrorIs(t, attempts[0].Err, graph.ErrTokenExpired)
}

// TestUnauthorizedRefreshesOnce: a 401 makes the client tell an
// invalidating source the token was refused, and send the request again,
// once, with the fresh token: same client-request-id, both attempts
// reported.
func TestUnauthorizedRefreshesOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	revoked := graph.NewAccessToken(revokedValue, time.Now().Add(time.Hour))
	fresh := graph.NewAccessToken(secret, time.Now().Add(time.Hour))
	tokens := &scriptedTokens{script: []graph.AccessToken{revoked, fresh}}
	s, c := refreshFixture(t, tokens)
	var attempts []graph.Attempt
	ctx = graph.WithAttemptReporter(ctx, func(a graph.Attempt) { attempts = append(attempts, a) })

	op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-401-once")
	require.NoError(t, err, "a 401 was not retried with a fresh token")
	assert.True(t, op.Status.Confirmed())
	_, invalidated := tokens.counts()
	require.Len(t, invalidated, 1)
	assert.Equal(t, revokedValue, invalidated[0].Value(), "the refused token is the one invalidated")

	require.Len(t, attempts, 2)
	assert.Equal(t, http.StatusUnauthorized, attempts[0].StatusCode)
	assert.True(t, attempts[0].Retryable)
	assert.Equal(t, 2, attempts[1].Number)
	assert.NoError(t, attempts[1].Err)
	assert.Equal(t, attempts[0].ClientRequestID, attempts[1].ClientRequestID)

	reqs := s.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, []int{401, 200}, []int{reqs[0].Reply, reqs[1].Reply})
	assert.Equal(t, reqs[0].Header.Get("Client-Request-Id"), reqs[1].Header.Get("Client-Request-Id"))
	assert.NotEmpty(t, reqs[0].Header.Get("Client-Request-Id"))
}

// TestUnauthorizedTwiceIsReturned: the fresh token refused too ends the
// request with the 401 (no third attempt).
func TestUnauthorizedTwiceIsReturned(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tokens := &scriptedTokens{script: []graph.AccessToken{graph.NewAccessToken(revokedValue, time.Now().Add(time.Hour))}}
	s, c := refreshFixture(t, tokens, graph.WithMaxAttempts(5))

	_, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-401-twice")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.Contains(t, err.Error(), "fresh token")
	noSecrets(t, err.Error())
	assert.Len(t, s.Requests(), 2, "one retry after a 401, never more")
	_, invalidated := tokens.counts()
	assert.Len(t, invalidated, 2, "each refused token is invalidated")
}

// TestUnauthorizedWithoutInvalidatorIsNotRetried: a source that cannot be
// told would hand out the same token: no retry.
func TestUnauthorizedWithoutInvalidatorIsNotRetried(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, c := refreshFixture(t, graph.StaticToken(revokedValue))
	_, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-401-static")
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, http.StatusUnauthorized, ge.StatusCode)
	assert.Len(t, s.Requests(), 1)
}

// TestUnauthorizedRetryWithinMaxAttempts: with WithMaxAttempts(1) there is
// no retry, but the refused token is still invalidated, so the caller's
// next request gets a fresh one.
func TestUnauthorizedRetryWithinMaxAttempts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	revoked := graph.NewAccessToken(revokedValue, time.Now().Add(time.Hour))
	fresh := graph.NewAccessToken(secret, time.Now().Add(time.Hour))
	tokens := &scriptedTokens{script: []graph.AccessToken{revoked, fresh}}
	s, c := refreshFixture(t, tokens, graph.WithMaxAttempts(1))

	_, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-401-max1")
	require.Error(t, err)
	assert.Len(t, s.Requests(), 1)
	_, invalidated := tokens.counts()
	assert.Len(t, invalidated, 1)
	_, err = c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-401-max1")
	assert.NoError(t, err)
}

// TestUnauthorizedRetryHonoursCancellation: a caller whose context ends
// after the 401 gets no second attempt.
func TestUnauthorizedRetryHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tokens := &scriptedTokens{script: []graph.AccessToken{
		graph.NewAccessToken(revokedValue, time.Now().Add(time.Hour)), graph.NewAccessToken(secret, time.Now().Add(time.Hour))}}
	s, c := refreshFixture(t, tokens)
	reqCtx, stop := context.WithCancel(ctx)
	defer stop()
	reqCtx = graph.WithAttemptReporter(reqCtx, func(graph.Attempt) { stop() })

	_, err := c.UpdateRecordingStatus(reqCtx, call, graph.StatusRecording, "cc-401-cancel")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Len(t, s.Requests(), 1)
}

// TestRefusalsAreNeverRetriedWithAFreshToken: 403 and 8506 are not about
// the token: no invalidation, no retry.
func TestRefusalsAreNeverRetriedWithAFreshToken(t *testing.T) {
	for name, fault := range map[string]graphtest.Fault{"403": graphtest.Forbidden(), "8506": graphtest.NonCompliant()} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			tokens := &scriptedTokens{script: []graph.AccessToken{graph.NewAccessToken(secret, time.Now().Add(time.Hour))}}
			s, c := refreshFixture(t, tokens)
			s.AddCall(call).Then(fault)
			_, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-refused")
			var ge *graph.Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, http.StatusForbidden, ge.StatusCode)
			assert.Len(t, s.Requests(), 1)
			_, invalidated := tokens.counts()
			assert.Empty(t, invalidated)
		})
	}
}

// TestOperationRefreshesAfterUnauthorized: reading an operation's
// Location takes the same path.
func TestOperationRefreshesAfterUnauthorized(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	good := graph.NewAccessToken(secret, time.Now().Add(time.Hour))
	revoked := graph.NewAccessToken(revokedValue, time.Now().Add(time.Hour))
	tokens := &scriptedTokens{script: []graph.AccessToken{good, revoked, good}}
	s, c := refreshFixture(t, tokens)
	s.AddCall(call).ReplyWith("running")
	op, err := c.UpdateRecordingStatus(ctx, call, graph.StatusRecording, "cc-op-401")
	require.NoError(t, err)
	_, err = c.Operation(ctx, call, op)
	require.NoError(t, err)
	reqs := s.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, http.MethodGet, reqs[2].Method)
	assert.Equal(t, []int{200, 401, 200}, []int{reqs[0].Reply, reqs[1].Reply, reqs[2].Reply})
}
