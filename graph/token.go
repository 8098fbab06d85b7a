package graph

import (
	"context"
	"errors"
	"time"
)

// TokenSource gives the bearer token for a Graph request. It is the one
// interface every credential adapts to: StaticToken for tests, the adapter
// in graph/azuretoken for azidentity credentials (client secret,
// certificate, managed identity).
//
// Implementations must be safe for concurrent use and should cache tokens
// until shortly before they expire.
type TokenSource interface {
	Token(ctx context.Context) (AccessToken, error)
}

// AccessToken is a bearer token. Its value never appears in String, in
// fmt's %v or %#v, in errors or in logs.
type AccessToken struct {
	value     string
	ExpiresOn time.Time // zero when unknown
}

// NewAccessToken wraps a token value and its expiry.
func NewAccessToken(value string, expiresOn time.Time) AccessToken {
	return AccessToken{value: value, ExpiresOn: expiresOn}
}

// Value returns the secret. Only the HTTP client needs it.
func (t AccessToken) Value() string { return t.value }

// String redacts the value.
func (t AccessToken) String() string {
	if t.ExpiresOn.IsZero() {
		return "AccessToken(redacted)"
	}
	return "AccessToken(redacted, expires " + t.ExpiresOn.UTC().Format(time.RFC3339) + ")"
}

// GoString redacts the value for %#v too.
func (t AccessToken) GoString() string { return t.String() }

// TokenSourceFunc adapts a function to TokenSource.
type TokenSourceFunc func(ctx context.Context) (AccessToken, error)

// Token calls f.
func (f TokenSourceFunc) Token(ctx context.Context) (AccessToken, error) { return f(ctx) }

// ErrNoToken is returned when a token source gives an empty token.
var ErrNoToken = errors.New("graph: token source returned an empty token")

// StaticToken is a TokenSource that always returns the same token: for
// tests and for tokens obtained elsewhere.
func StaticToken(value string) TokenSource {
	tok := AccessToken{value: value}
	return TokenSourceFunc(func(context.Context) (AccessToken, error) {
		if tok.value == "" {
			return AccessToken{}, ErrNoToken
		}
		return tok, nil
	})
}
