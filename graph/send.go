package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds what each attempt does besides deciding: sending the
// request, reading the reply into a reused buffer, and the Authorization
// header, made once per token rather than once per request.

// send sends one attempt. When the http.Client has no cookie jar and no
// Timeout of its own, it hands the request straight to the client's
// RoundTripper: that is all http.Client.Do would do here (the Client
// never follows redirects, and a RoundTripper follows none), without
// Do's copy of the headers for redirects it will not follow. Otherwise
// it goes through Do, so a jar's cookies and the Timeout still apply.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.roundTripper == nil {
		return c.hc.Do(req)
	}
	resp, err := c.roundTripper.RoundTrip(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			_ = resp.Body.Close() // http.Client ignores such a response too
		}
		return nil, err
	}
	if resp == nil {
		return nil, fmt.Errorf("http: RoundTripper implementation (%T) returned a nil *Response with a nil error", c.roundTripper)
	}
	if resp.Body == nil {
		resp.Body = http.NoBody // as http.Client does
	}
	return resp, nil
}

// directRoundTripper returns the RoundTripper send may call instead of
// hc.Do, or nil when Do must be used because hc has a cookie jar or a
// Timeout.
func directRoundTripper(hc *http.Client) http.RoundTripper {
	if hc.Jar != nil || hc.Timeout != 0 {
		return nil
	}
	if hc.Transport == nil {
		return http.DefaultTransport
	}
	return hc.Transport
}

// replyBufferKeep is the largest buffer put back for reuse; a bigger
// reply's buffer is left to the garbage collector.
const replyBufferKeep = 64 << 10

// replyBuffers are buffers for reading replies, reused across requests.
// A buffer goes back only once nothing read from it refers to it: every
// parser copies what it keeps.
type replyBuffers struct{ pool sync.Pool }

func (p *replyBuffers) get() *[]byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 0, 1024)
	return &b
}

func (p *replyBuffers) put(b *[]byte) {
	if cap(*b) > replyBufferKeep {
		return
	}
	*b = (*b)[:0]
	p.pool.Put(b)
}

// readReply reads r into *buf until EOF or until limit bytes (a body that
// reaches the limit is too large, and the caller says so), growing *buf
// as needed. It returns what it read, as io.ReadAll does; *buf keeps the
// grown buffer for reuse.
func readReply(buf *[]byte, r io.Reader, limit int) ([]byte, error) {
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow
		}
		n, err := r.Read(b[len(b):min(cap(b), limit)])
		b = b[:len(b)+n]
		*buf = b
		switch {
		case errors.Is(err, io.EOF):
			return b, nil
		case err != nil:
			return b, err
		case len(b) >= limit:
			return b, nil
		}
	}
}

// authHeader is an Authorization header value and the token it was made
// from.
type authHeader struct {
	token AccessToken
	value string // "Bearer " + token.value
}

// authorization returns the Authorization header for the current token;
// its value is built again only when the token source hands out a new
// token. The caller gives each request an Authorization slice of its own,
// so a RoundTripper that rewrites that header in place cannot touch
// another request's. (The other headers' values are shared: a
// RoundTripper must change them with Set or Add, as http.Header asks, not
// in place.)
//
// A token that has expired (TokenExpiryMargin) is not used: the source is
// asked once more (renewExpired).
func (c *Client) authorization(ctx context.Context) (*authHeader, error) {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return nil, tokenFailure(err)
	}
	if tok.value == "" {
		return nil, ErrNoToken
	}
	if !tok.ExpiresOn.IsZero() && tokenExpired(tok, time.Now()) {
		if tok, err = c.renewExpired(ctx, tok); err != nil {
			return nil, err
		}
	}
	h := c.auth.Load()
	if h == nil || h.token.value != tok.value || !h.token.ExpiresOn.Equal(tok.ExpiresOn) {
		h = &authHeader{token: tok, value: "Bearer " + tok.value}
		c.auth.Store(h)
	}
	return h, nil
}

// tokenExpired reports whether tok, which has an expiry, is too close to
// it to be sent at now.
func tokenExpired(tok AccessToken, now time.Time) bool {
	return !now.Add(TokenExpiryMargin).Before(tok.ExpiresOn)
}

// tokenFailure wraps the token source's error. The source's error is its
// own; it must not carry the token.
//
//go:noinline
func tokenFailure(err error) error {
	return fmt.Errorf("graph: getting a token: %w", err)
}

// renewExpired asks the token source once more after it returned expired,
// telling it first, if it can be told, that the token is stale. A second
// expired token is ErrTokenExpired, naming both expiries (never a value).
//
//go:noinline
func (c *Client) renewExpired(ctx context.Context, expired AccessToken) (AccessToken, error) {
	if c.invalidator != nil {
		c.invalidator.InvalidateToken(expired)
	}
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "graph: the token source returned an expired token; asking it again",
			slog.Time("expires", expired.ExpiresOn), slog.Duration("margin", TokenExpiryMargin))
	}
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return AccessToken{}, tokenFailure(err)
	}
	if tok.value == "" {
		return AccessToken{}, ErrNoToken
	}
	if now := time.Now(); !tok.ExpiresOn.IsZero() && tokenExpired(tok, now) {
		return AccessToken{}, fmt.Errorf("%w: it returned a token that expires at %s, and when asked again one that expires at %s (now %s; a token is sent only while it has more than %s left, graph.TokenExpiryMargin): make the source renew tokens before they expire (azuretoken.Source does), and check this host's clock",
			ErrTokenExpired, expired.ExpiresOn.UTC().Format(time.RFC3339), tok.ExpiresOn.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), TokenExpiryMargin)
	}
	return tok, nil
}

// tokenRefused handles a 401 reply to an attempt that carried auth: it
// tells an invalidating token source the token was refused and says
// whether the request may be sent once more with a fresh token (only
// once per request: mayRefresh). A second 401 says so in the error.
//
//go:noinline
func (c *Client) tokenRefused(ctx context.Context, auth *authHeader, mayRefresh bool, err error) (retryable bool, _ error) {
	c.invalidator.InvalidateToken(auth.token)
	if mayRefresh {
		return true, err
	}
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "graph: Graph refused a fresh token too (HTTP 401 twice)")
	}
	return false, fmt.Errorf("graph: Graph refused a fresh token too (HTTP 401 twice; check the token source's tenant, app and scope): %w", err)
}

// lastAuth is the Authorization header made last, shared by the requests
// that carry the same token.
type lastAuth = atomic.Pointer[authHeader]
