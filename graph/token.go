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
//
// The Client does not send a token that has expired: one whose ExpiresOn
// is set and less than TokenExpiryMargin ahead. It then asks the source
// once more (telling it first, if it is a TokenInvalidator, that the token
// is stale); a second expired token fails the request with
// ErrTokenExpired, before anything is sent. When Graph answers 401 (a
// token revoked, or expired in flight), a source that is a
// TokenInvalidator is told so and the request is sent once more with the
// token it gives next; any other source gets no such retry, since it
// would give the same token again.
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

// TokenExpiryMargin is how close to its expiry a token may be and still
// be sent: a token whose ExpiresOn is less than this far ahead counts as
// expired, to allow for clock skew between this host and Graph and for
// the request's time in flight. It is far below azuretoken's refresh
// margin (5 minutes), so a source that renews tokens ahead of time never
// meets it. A token with a zero ExpiresOn (expiry unknown, as
// StaticToken's) is always sent.
const TokenExpiryMargin = 10 * time.Second

// ErrTokenExpired matches the error of a request whose token source
// returned a token past its expiry (within TokenExpiryMargin) twice in a
// row; nothing was sent.
var ErrTokenExpired = errors.New("graph: token source returned an expired token")

// TokenInvalidator is implemented by a TokenSource that can be told a
// token it gave out is no good, so that its next Token fetches a new one
// instead of returning it again from a cache. azuretoken.Source
// implements it.
//
// The Client calls InvalidateToken with the token exactly as Token
// returned it, when Graph refused it (HTTP 401) and when it had expired
// (see TokenExpiryMargin). Then, for a 401, it sends the request once more
// with a token from Token, within the request's attempts (WithMaxAttempts)
// and its context's deadline; a second 401 ends the request. A source
// that does not implement TokenInvalidator gets no retry after a 401.
//
// InvalidateToken must be safe for concurrent use and must not block on
// I/O: it is called on the request's path. It should drop tok only if it
// is still the token the source would hand out (compare Value), so that a
// token another caller already replaced is not dropped twice and a fresh
// one is not thrown away. It must never log or keep the value.
type TokenInvalidator interface {
	InvalidateToken(tok AccessToken)
}
