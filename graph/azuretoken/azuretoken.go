// Package azuretoken adapts an Azure credential (anything that satisfies
// azcore.TokenCredential: azidentity's client secret, certificate and
// managed identity credentials among them) to graph.TokenSource.
//
// It lives in its own package so that graph itself imports no Azure module.
//
//	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
//	...
//	tokens, err := azuretoken.New(cred)
//	client, err := graph.NewClient(tokens)
//
// Tokens are cached until shortly before they expire (or until the
// credential's suggested refresh time), and concurrent callers share one
// fetch. A token never appears in an error or a String.
//
// Source is a graph.TokenInvalidator: when Graph refuses a token (HTTP 401:
// revoked, or expired in flight) or the client finds it expired, the
// client calls InvalidateToken, the Source drops the cached token, and the
// next Token fetches a new one from the credential; the client then sends
// the refused request once more.
package azuretoken

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/recgate/recgate/graph"
)

// DefaultScope is the scope for application permissions on the global
// Graph cloud. National clouds have their own, e.g.
// https://graph.microsoft.us/.default.
const DefaultScope = "https://graph.microsoft.com/.default"

// DefaultRefreshMargin is how long before expiry a cached token is renewed.
const DefaultRefreshMargin = 5 * time.Minute

// Source is a graph.TokenSource backed by an azcore.TokenCredential.
type Source struct {
	cred   azcore.TokenCredential
	scope  string
	margin time.Duration
	now    func() time.Time

	mu        sync.Mutex
	cached    graph.AccessToken
	refreshOn time.Time
}

// Option configures a Source.
type Option func(*Source) error

// WithScope sets the token scope (default DefaultScope).
func WithScope(scope string) Option {
	return func(s *Source) error {
		if scope == "" {
			return errors.New("azuretoken: WithScope(\"\"): pass a scope such as " + DefaultScope)
		}
		s.scope = scope
		return nil
	}
}

// WithRefreshMargin renews cached tokens this long before they expire
// (default 5 minutes).
func WithRefreshMargin(d time.Duration) Option {
	return func(s *Source) error {
		if d < 0 {
			return fmt.Errorf("azuretoken: WithRefreshMargin(%s): want a duration >= 0", d)
		}
		s.margin = d
		return nil
	}
}

// New wraps cred.
func New(cred azcore.TokenCredential, opts ...Option) (*Source, error) {
	if cred == nil {
		return nil, errors.New("azuretoken.New: nil credential: pass an azidentity credential")
	}
	s := &Source{cred: cred, scope: DefaultScope, margin: DefaultRefreshMargin, now: time.Now}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("azuretoken.New: option %d is nil", i)
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Token returns a cached token, or fetches a new one from the credential.
func (s *Source) Token(ctx context.Context) (graph.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.cached.Value() != "" && now.Before(s.refreshOn) {
		return s.cached, nil
	}
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{s.scope}})
	if err != nil {
		return graph.AccessToken{}, fmt.Errorf("azuretoken: getting a token for scope %s: %w; check AZURE_TENANT_ID, AZURE_CLIENT_ID and the secret or certificate, and that the app has Calls.AccessMedia.All with admin consent", s.scope, err)
	}
	if tok.Token == "" {
		return graph.AccessToken{}, fmt.Errorf("azuretoken: the credential returned an empty token for scope %s", s.scope)
	}
	s.cached = graph.NewAccessToken(tok.Token, tok.ExpiresOn)
	s.refreshOn = tok.ExpiresOn.Add(-s.margin)
	if !tok.RefreshOn.IsZero() && tok.RefreshOn.Before(s.refreshOn) {
		s.refreshOn = tok.RefreshOn
	}
	return s.cached, nil
}

// InvalidateToken drops tok from the cache if it is still the cached
// token, so that the next Token fetches a new one from the credential
// (graph.TokenInvalidator). A token already replaced is left alone. It
// waits only for a Token call fetching at that moment, which its own
// context bounds.
func (s *Source) InvalidateToken(tok graph.AccessToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tok.Value() != "" && s.cached.Value() == tok.Value() {
		s.cached = graph.AccessToken{}
		s.refreshOn = time.Time{}
	}
}

var _ graph.TokenInvalidator = (*Source)(nil)

// String describes the source without its token.
func (s *Source) String() string {
	return "azuretoken.Source{scope " + s.scope + "}"
}
