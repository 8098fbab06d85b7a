package azuretoken

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// TestInvalidateTokenFetchesANewOne: a token Graph refused is dropped from
// the cache, and the next Token asks the credential again.
func TestInvalidateTokenFetchesANewOne(t *testing.T) {
	cred := &countingCredential{ttl: time.Hour, now: time.Now}
	s, err := New(cred)
	require.NoError(t, err)
	ctx := context.Background()

	first, err := s.Token(ctx)
	require.NoError(t, err)
	again, _ := s.Token(ctx)
	assert.Equal(t, first.Value(), again.Value(), "cached")

	s.InvalidateToken(first)
	second, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "secret-token-2", second.Value())
	assert.Equal(t, 2, cred.calls)
}

// TestInvalidateTokenLeavesAReplacedTokenAlone: a stale invalidation (of a
// token another caller already replaced) does not throw the fresh one
// away, and an empty token invalidates nothing.
func TestInvalidateTokenLeavesAReplacedTokenAlone(t *testing.T) {
	cred := &countingCredential{ttl: time.Hour, now: time.Now}
	s, err := New(cred)
	require.NoError(t, err)
	ctx := context.Background()

	first, _ := s.Token(ctx)
	s.InvalidateToken(first)
	second, _ := s.Token(ctx)
	s.InvalidateToken(first) // late: second is cached now
	s.InvalidateToken(graph.AccessToken{})
	third, _ := s.Token(ctx)
	assert.Equal(t, second.Value(), third.Value())
	assert.Equal(t, 2, cred.calls)
}

// revokingCredential hands out revoked-... first, then the token the fake
// accepts.
type revokingCredential struct{ countingCredential }

func (c *revokingCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.countingCredential.GetToken(ctx, o)
	if c.calls == 1 {
		tok.Token = "revoked-" + tok.Token
	} else {
		tok.Token = "accepted-token"
	}
	return tok, err
}

// TestClientRefreshesAfterUnauthorized: end to end with graph.Client, a
// token revoked at Graph (401) is replaced and the request succeeds on
// its second attempt.
func TestClientRefreshesAfterUnauthorized(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fake := graphtest.NewServer(graphtest.WithToken("accepted-token"))
	defer fake.Close()
	const callID = "57dab8b1-894c-409a-b240-bd8beae78896"
	fake.AddCall(callID)
	cred := &revokingCredential{countingCredential{ttl: time.Hour, now: time.Now}}
	tokens, err := New(cred)
	require.NoError(t, err)
	client, err := graph.NewClient(tokens, graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	require.NoError(t, err)

	op, err := client.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, "cc-azure-401")
	require.NoError(t, err)
	assert.True(t, op.Status.Confirmed())
	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, []int{http.StatusUnauthorized, http.StatusOK}, []int{reqs[0].Reply, reqs[1].Reply})
	assert.Equal(t, 2, cred.calls)
	for _, r := range reqs {
		assert.False(t, strings.Contains(r.Header.Get("Authorization"), "token"), "the log redacts the token")
	}
}

// TestClientRenewsAnExpiredCachedToken: with no refresh margin the Source
// keeps a token until its very expiry; the client, finding it within
// graph.TokenExpiryMargin, invalidates it and gets a new one.
func TestClientRenewsAnExpiredCachedToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fake := graphtest.NewServer()
	defer fake.Close()
	const callID = "57dab8b1-894c-409a-b240-bd8beae78896"
	fake.AddCall(callID)
	cred := &countingCredential{ttl: graph.TokenExpiryMargin / 2, now: time.Now}
	tokens, err := New(cred, WithRefreshMargin(0))
	require.NoError(t, err)
	client, err := graph.NewClient(tokens, graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	require.NoError(t, err)

	_, err = client.UpdateRecordingStatus(ctx, callID, graph.StatusRecording, "cc-azure-expiring")
	// Every token the credential mints is inside the margin, so the
	// second is refused too; what matters is that the cache was bypassed.
	require.ErrorIs(t, err, graph.ErrTokenExpired)
	assert.NotContains(t, err.Error(), "secret-token")
	assert.Equal(t, 2, cred.calls, "the expired cached token was invalidated and a new one fetched")
	assert.Empty(t, fake.Requests())
}
