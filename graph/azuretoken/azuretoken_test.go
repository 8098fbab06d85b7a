package azuretoken

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type countingCredential struct {
	mu     sync.Mutex
	calls  int
	scopes []string
	ttl    time.Duration
	now    func() time.Time
	err    error
}

func (c *countingCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.scopes = o.Scopes
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: fmt.Sprintf("secret-token-%d", c.calls), ExpiresOn: c.now().Add(c.ttl)}, nil
}

func TestCachesUntilShortlyBeforeExpiry(t *testing.T) {
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	cred := &countingCredential{ttl: time.Hour, now: now}
	s, err := New(cred)
	require.NoError(t, err)
	s.now = now
	ctx := context.Background()

	tok, err := s.Token(ctx)
	require.NoError(t, err)
	assert.Equal(t, "secret-token-1", tok.Value())
	assert.Equal(t, []string{DefaultScope}, cred.scopes)

	clock = clock.Add(50 * time.Minute)
	tok, _ = s.Token(ctx)
	assert.Equal(t, "secret-token-1", tok.Value(), "still cached 10 minutes before expiry")

	clock = clock.Add(6 * time.Minute) // 4 minutes before expiry: inside the margin
	tok, _ = s.Token(ctx)
	assert.Equal(t, "secret-token-2", tok.Value())
	assert.Equal(t, 2, cred.calls)
	assert.NotContains(t, fmt.Sprintf("%v %s %#v", tok, s, tok), "secret-token")
}

func TestConcurrentCallersShareOneFetch(t *testing.T) {
	cred := &countingCredential{ttl: time.Hour, now: time.Now}
	s, err := New(cred)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Token(context.Background())
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, cred.calls)
}

func TestErrorsSayWhatToCheck(t *testing.T) {
	cred := &countingCredential{err: errors.New("AADSTS7000215: Invalid client secret provided"), now: time.Now}
	s, err := New(cred, WithScope("https://graph.microsoft.us/.default"))
	require.NoError(t, err)
	_, err = s.Token(context.Background())
	assert.ErrorContains(t, err, "AZURE_CLIENT_ID")
	assert.ErrorContains(t, err, "graph.microsoft.us")
	assert.ErrorIs(t, err, cred.err)

	_, err = New(nil)
	assert.Error(t, err)
	_, err = New(cred, WithScope(""))
	assert.Error(t, err)
	_, err = New(cred, WithRefreshMargin(-time.Second))
	assert.Error(t, err)
	_, err = New(cred, nil)
	assert.Error(t, err)
}
