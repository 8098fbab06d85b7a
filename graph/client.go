package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Version is recgate's version, sent in the User-Agent header.
const Version = "0.1.0"

// Base URLs of the Graph clouds. The client appends
// /communications/calls/{id}/updateRecordingStatus.
const (
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
	BetaBaseURL    = "https://graph.microsoft.com/beta"
	USGovBaseURL   = "https://graph.microsoft.us/v1.0"
	USGovDoDURL    = "https://dod-graph.microsoft.us/v1.0"
	ChinaBaseURL   = "https://microsoftgraph.chinacloudapi.cn/v1.0"
)

// MaxReplyBytes caps a reply body; a larger one is an error.
const MaxReplyBytes = 1 << 20

// Defaults for retries.
const (
	DefaultMaxAttempts   = 3
	DefaultRetryAfterCap = 60 * time.Second
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 10 * time.Second
)

var (
	// ErrInvalidRequest matches every error about the caller's input: it
	// was refused before anything was sent.
	ErrInvalidRequest = errors.New("graph: invalid request")
	// ErrRedirect: Graph (or something posing as it) answered with a
	// redirect. It is not followed: the token would go with it.
	ErrRedirect = errors.New("graph: redirect refused; the token is not sent to another location")
	// ErrBadReply: a 2xx reply that is not a usable
	// updateRecordingStatusOperation (empty, not JSON, wrong Content-Type,
	// too large, truncated, or for another clientContext). Nothing in it is
	// taken for success.
	ErrBadReply = errors.New("graph: unusable reply")
	// ErrUntrustedLocation: an operation's Location is not on the
	// configured Graph host or does not name the same call, so it is not
	// fetched and the token goes nowhere.
	ErrUntrustedLocation = errors.New("graph: operation Location is not on the configured Graph host for this call; not fetched")
)

// Client calls updateRecordingStatus. It satisfies fsm.Updater. It is safe
// for concurrent use; requests for one call are sent one at a time, in the
// order they were made, so a retried recording can never land after a
// later notRecording.
type Client struct {
	base          *url.URL
	hc            *http.Client
	tokens        TokenSource
	maxAttempts   int
	retryAfterCap time.Duration
	backoffBase   time.Duration
	backoffMax    time.Duration
	logger        *slog.Logger
	userAgent     string
	queues        callQueues
}

// ClientOption configures a Client.
type ClientOption func(*Client) error

// WithBaseURL sets the Graph base URL, e.g. BetaBaseURL or a national
// cloud's. It must be https; plain http is allowed only for loopback hosts
// (tests against graphtest).
func WithBaseURL(raw string) ClientOption {
	return func(c *Client) error {
		u, err := parseBaseURL(raw)
		if err != nil {
			return err
		}
		c.base = u
		return nil
	}
}

// WithHTTPClient sends requests through hc (for its Transport, proxies and
// timeouts). The Client never follows redirects, whatever hc says.
func WithHTTPClient(hc *http.Client) ClientOption {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("graph: WithHTTPClient(nil): pass a client, or leave the option out")
		}
		copied := *hc
		c.hc = &copied
		return nil
	}
}

// WithMaxAttempts bounds the attempts of one request (first try included);
// default 3.
func WithMaxAttempts(n int) ClientOption {
	return func(c *Client) error {
		if n < 1 || n > 100 {
			return fmt.Errorf("graph: WithMaxAttempts(%d): want 1 to 100", n)
		}
		c.maxAttempts = n
		return nil
	}
}

// WithRetryAfterCap caps how long one Retry-After is honoured; default 60 s.
func WithRetryAfterCap(d time.Duration) ClientOption {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("graph: WithRetryAfterCap(%s): want a positive duration", d)
		}
		c.retryAfterCap = d
		return nil
	}
}

// WithBackoff sets the exponential backoff used when a retryable reply has
// no Retry-After: base doubles per attempt up to max, with jitter.
func WithBackoff(base, max time.Duration) ClientOption {
	return func(c *Client) error {
		if base <= 0 || max < base {
			return fmt.Errorf("graph: WithBackoff(%s, %s): want 0 < base <= max", base, max)
		}
		c.backoffBase, c.backoffMax = base, max
		return nil
	}
}

// WithClientLogger logs retries and refusals at Debug and Warn. Tokens are
// never logged.
func WithClientLogger(l *slog.Logger) ClientOption {
	return func(c *Client) error {
		if l == nil {
			return errors.New("graph: WithClientLogger(nil): pass a logger, or leave the option out")
		}
		c.logger = l
		return nil
	}
}

// NewClient builds a client that takes its bearer tokens from tokens.
func NewClient(tokens TokenSource, opts ...ClientOption) (*Client, error) {
	if tokens == nil {
		return nil, errors.New("graph.NewClient: nil TokenSource: pass graph.StaticToken(...) or an azuretoken source")
	}
	base, _ := parseBaseURL(DefaultBaseURL)
	c := &Client{
		base:          base,
		tokens:        tokens,
		maxAttempts:   DefaultMaxAttempts,
		retryAfterCap: DefaultRetryAfterCap,
		backoffBase:   DefaultBackoffBase,
		backoffMax:    DefaultBackoffMax,
		userAgent:     "recgate/" + Version + " (+https://github.com/recgate/recgate)",
	}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("graph.NewClient: option %d is nil", i)
		}
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	c.hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("graph: base URL %q: %w", raw, err)
	}
	switch {
	case u.Host == "":
		return nil, fmt.Errorf("graph: base URL %q has no host; want e.g. %s", raw, DefaultBaseURL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("graph: base URL %q must not carry credentials, a query or a fragment", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("graph: base URL %q must be https (plain http only for loopback test servers)", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// BaseURL returns the configured base URL.
func (c *Client) BaseURL() string { return c.base.String() }

// updateBody is {"clientContext": ..., "status": ...}, built without
// reflection: the status is one of three plain words, and the
// clientContext is escaped as JSON requires.
func updateBody(clientContext string, status Status) []byte {
	b := make([]byte, 0, len(clientContext)+48)
	b = append(b, `{"clientContext":`...)
	b = appendJSONString(b, clientContext)
	b = append(b, `,"status":"`...)
	b = append(b, status...)
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			quoted, _ := json.Marshal(s) // rare: let encoding/json escape it
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UpdateRecordingStatus sends updateRecordingStatus for one call and
// returns Graph's operation. The input is checked before anything is sent.
// A completed or pending operation returns with a nil error (tell them
// apart with op.Status.Confirmed); a failed one returns with an
// *OperationError. Non-2xx replies are *Error; 429, 503, 504 and transport
// failures before any reply are retried (Retry-After honoured, capped),
// every other error is returned at once.
func (c *Client) UpdateRecordingStatus(ctx context.Context, callID string, status Status, clientContext string) (Operation, error) {
	if err := ValidateCallID(callID); err != nil {
		return Operation{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if !status.Valid() {
		return Operation{}, fmt.Errorf("%w: recording status %q: want notRecording, recording or failed", ErrInvalidRequest, string(status))
	}
	if err := ValidateClientContext(clientContext); err != nil {
		return Operation{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	body := updateBody(clientContext, status)
	target := c.base.String() + "/communications/calls/" + url.PathEscape(callID) + "/updateRecordingStatus"

	release, err := c.queues.enter(ctx, callID)
	if err != nil {
		return Operation{}, err
	}
	defer release()
	op, err := c.exchange(ctx, http.MethodPost, target, body)
	if err != nil {
		return op, err
	}
	if op.ClientContext != "" && op.ClientContext != clientContext {
		return op, fmt.Errorf("%w: reply is for clientContext %q, not %q", ErrBadReply, op.ClientContext, clientContext)
	}
	return op, op.Err()
}

// Operation fetches the current state of a pending operation from its
// Location, but only if that Location is on the configured Graph host
// (same scheme and host) and names an operation of the same call;
// otherwise it returns ErrUntrustedLocation and sends nothing.
func (c *Client) Operation(ctx context.Context, callID string, op Operation) (Operation, error) {
	if err := ValidateCallID(callID); err != nil {
		return Operation{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	loc, err := c.trustedLocation(callID, op.Location)
	if err != nil {
		return Operation{}, err
	}
	release, err := c.queues.enter(ctx, callID)
	if err != nil {
		return Operation{}, err
	}
	defer release()
	got, err := c.exchange(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return got, err
	}
	if got.Location == "" {
		got.Location = op.Location
	}
	return got, got.Err()
}

func (c *Client) trustedLocation(callID, location string) (string, error) {
	if location == "" {
		return "", fmt.Errorf("%w (no Location)", ErrUntrustedLocation)
	}
	u, err := url.Parse(location)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("%w (not an absolute URL)", ErrUntrustedLocation)
	}
	if u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%w (scheme or host differ from %s)", ErrUntrustedLocation, c.base.Scheme+"://"+c.base.Host)
	}
	prefix := c.base.EscapedPath() + "/communications/calls/" + url.PathEscape(callID) + "/operations/"
	rest, ok := strings.CutPrefix(u.EscapedPath(), prefix)
	if !ok || rest == "" || strings.ContainsAny(rest, "/%") {
		return "", fmt.Errorf("%w (does not name an operation of call %s)", ErrUntrustedLocation, callID)
	}
	return u.String(), nil
}

// exchange sends one logical request, with its retries, and reads the
// reply into an Operation.
func (c *Client) exchange(ctx context.Context, method, target string, body []byte) (Operation, error) {
	clientRequestID := uuid.NewString() // one per logical request, kept across retries
	freshConnection := false
	for attempt := 1; ; attempt++ {
		op, retryable, wait, err := c.attempt(ctx, method, target, body, clientRequestID, freshConnection)
		if err == nil || !retryable {
			return op, err
		}
		if attempt >= c.maxAttempts {
			return op, fmt.Errorf("graph: gave up after %d attempts: %w", attempt, err)
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		if wait > c.retryAfterCap {
			wait = c.retryAfterCap
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return op, fmt.Errorf("graph: not retrying: waiting %s would pass the context's deadline: %w", wait.Round(time.Millisecond), err)
		}
		if c.logger != nil {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "graph: retrying", slog.Int("attempt", attempt), slog.Duration("wait", wait),
				slog.String("client-request-id", clientRequestID), slog.String("err", err.Error()))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return op, errors.Join(ctx.Err(), err)
		case <-timer.C:
		}
		var ge *Error
		freshConnection = errors.As(err, &ge) && ge.StatusCode == http.StatusServiceUnavailable
	}
}

// backoff is exponential with jitter: a random wait in [d/2, d] where d
// doubles per attempt from backoffBase up to backoffMax.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.backoffBase
	for i := 1; i < attempt && d < c.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.backoffMax)
	return d/2 + rand.N(d/2+1)
}

// attempt makes one HTTP request. retryable says whether the same request
// may be sent again; wait is the server's Retry-After, if any.
func (c *Client) attempt(ctx context.Context, method, target string, body []byte, clientRequestID string, freshConnection bool) (op Operation, retryable bool, wait time.Duration, err error) {
	auth, err := bearer(ctx, c.tokens)
	if err != nil {
		return Operation{}, false, 0, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return Operation{}, false, 0, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	// The keys are written in canonical form, so no Set has to
	// canonicalize them on every request.
	h := req.Header
	h["Authorization"] = []string{auth}
	if body != nil {
		h["Content-Type"] = jsonMediaType
	}
	h["Accept"] = jsonMediaType
	h["User-Agent"] = []string{c.userAgent}
	h["Client-Request-Id"] = []string{clientRequestID}
	req.Close = freshConnection // after a 503, do not reuse the connection

	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Operation{}, false, 0, fmt.Errorf("graph: %s %s: %w", method, redactURL(target), ctx.Err())
		}
		// No reply at all: the request may be sent again.
		return Operation{}, true, 0, fmt.Errorf("graph: %s %s: no reply: %w", method, redactURL(target), unwrapURLError(err))
	}
	defer resp.Body.Close()
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxReplyBytes+1))
	requestID := resp.Header.Get("request-id")

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return Operation{}, false, 0, fmt.Errorf("%w: HTTP %d to %q [request-id %s]", ErrRedirect, resp.StatusCode, resp.Header.Get("Location"), requestID)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ge := ParseErrorBody(resp.StatusCode, resp.Header.Get("Content-Type"), raw)
		if ge.RequestID == "" {
			ge.RequestID = requestID
		}
		if ge.ClientRequestID == "" {
			ge.ClientRequestID = firstNonEmpty(resp.Header.Get("client-request-id"), clientRequestID)
		}
		if ge.Date == "" {
			ge.Date = resp.Header.Get("Date")
		}
		if ra, err := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); err == nil {
			ge.RetryAfter = ra
		}
		if c.logger != nil {
			c.logger.LogAttrs(ctx, slog.LevelWarn, "graph: error reply", slog.Int("status", ge.StatusCode), slog.String("code", ge.Code),
				slog.String("request-id", ge.RequestID), slog.String("client-request-id", ge.ClientRequestID))
		}
		return Operation{}, ge.Temporary(), ge.RetryAfter, ge
	}
	bad := func(format string, args ...any) (Operation, bool, time.Duration, error) {
		return Operation{}, false, 0, fmt.Errorf("%w: HTTP %d: %s [request-id %s]", ErrBadReply, resp.StatusCode, fmt.Sprintf(format, args...), requestID)
	}
	switch {
	case readErr != nil:
		return bad("reading the body: %v", readErr)
	case len(raw) > MaxReplyBytes:
		return bad("body larger than %d bytes", MaxReplyBytes)
	case len(raw) == 0:
		return bad("empty body: cannot tell whether Graph accepted the request")
	}
	if !isJSON(resp.Header.Get("Content-Type")) {
		return bad("Content-Type %q, want application/json", resp.Header.Get("Content-Type"))
	}
	op, err = ParseOperation(raw)
	if err != nil {
		return bad("%v", err)
	}
	op.Location = resp.Header.Get("Location")
	op.RequestID = requestID
	op.ClientRequestID = firstNonEmpty(resp.Header.Get("client-request-id"), clientRequestID)
	return op, false, 0, nil
}

var jsonMediaType = []string{"application/json"}

// isJSON reports whether a Content-Type is application/json, parameters
// (charset, odata.metadata) aside.
func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/json")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// redactURL drops anything but scheme, host and path.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

// unwrapURLError strips *url.Error's copy of the method and URL, which the
// message already names.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
