package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
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

// Defaults for retries and timeouts.
const (
	DefaultMaxAttempts   = 3
	DefaultRetryAfterCap = 60 * time.Second
	DefaultBackoffBase   = 500 * time.Millisecond
	DefaultBackoffMax    = 10 * time.Second
	// DefaultAttemptTimeout bounds one HTTP attempt (token, request and
	// the whole reply body) when the caller's context allows longer.
	DefaultAttemptTimeout = 30 * time.Second
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
	// ErrAttemptTimeout: one attempt got no complete reply within the
	// client's attempt timeout (WithAttemptTimeout). Errors that match it
	// also match context.DeadlineExceeded.
	ErrAttemptTimeout = errors.New("graph: attempt timeout reached (WithAttemptTimeout sets it)")
)

// Client calls updateRecordingStatus. It satisfies fsm.Updater. It is safe
// for concurrent use; requests for one call are sent one at a time, in the
// order they were made, so a retried recording can never land after a
// later notRecording sent by this client.
//
// Every attempt has a deadline even when the caller's context has none:
// the attempt timeout (DefaultAttemptTimeout, WithAttemptTimeout), so a
// Graph that never answers cannot hold a call for ever. Without a deadline
// of its own, one UpdateRecordingStatus therefore lasts at most about
// MaxAttempts x AttemptTimeout plus the waits between attempts.
type Client struct {
	base           *url.URL
	hc             *http.Client
	tokens         TokenSource
	maxAttempts    int
	retryAfterCap  time.Duration
	backoffBase    time.Duration
	backoffMax     time.Duration
	attemptTimeout time.Duration
	logger         *slog.Logger
	queues         callQueues

	// Set up once by NewClient for the request path.
	baseURL         string            // base.String()
	userAgentHeader []string          // the User-Agent header's value
	roundTripper    http.RoundTripper // hc's, when send may skip hc.Do; else nil
	replyBuffers    replyBuffers
	auth            lastAuth
	invalidator     TokenInvalidator // tokens, when it is one; else nil
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

// WithHTTPClient sends requests through a copy of hc, taken now (for its
// Transport, proxies and timeouts; change hc later and the Client does not
// see it). The Client never follows redirects, whatever hc says. When hc
// has no cookie jar and no Timeout, requests go to hc's Transport directly,
// which is all hc.Do would do with them; with either, they go through Do.
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

// WithRetryAfterCap sets the longest Retry-After the client waits out
// before retrying by itself; default 60 s. A reply that asks for a longer
// wait is not retried early (that would be sooner than Graph asked): the
// client returns its *Error at once, with RetryAfter filled in, and the
// caller decides whether to try again after that time.
func WithRetryAfterCap(d time.Duration) ClientOption {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("graph: WithRetryAfterCap(%s): want a positive duration", d)
		}
		c.retryAfterCap = d
		return nil
	}
}

// WithAttemptTimeout bounds each HTTP attempt: getting the token, sending
// the request and reading the whole reply; default DefaultAttemptTimeout
// (30 s). It applies whether or not the caller's context has a deadline
// (the earlier of the two wins), so a Graph that accepts the connection
// and never answers cannot hold a call for ever. An attempt that times out
// before any reply is treated like a dropped connection: it is retried
// (see UpdateRecordingStatus), and the final error matches both
// ErrAttemptTimeout and context.DeadlineExceeded.
func WithAttemptTimeout(d time.Duration) ClientOption {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("graph: WithAttemptTimeout(%s): want a positive duration (bound the attempt; use the context for the whole call)", d)
		}
		c.attemptTimeout = d
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
		base:           base,
		tokens:         tokens,
		maxAttempts:    DefaultMaxAttempts,
		retryAfterCap:  DefaultRetryAfterCap,
		backoffBase:    DefaultBackoffBase,
		backoffMax:     DefaultBackoffMax,
		attemptTimeout: DefaultAttemptTimeout,
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
	c.roundTripper = directRoundTripper(c.hc)
	c.invalidator, _ = tokens.(TokenInvalidator)
	c.baseURL = c.base.String()
	c.userAgentHeader = []string{"recgate/" + Version + " (+https://github.com/recgate/recgate)"}
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
func (c *Client) BaseURL() string { return c.baseURL }

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
//
// A completed or pending operation returns with a nil error (tell them
// apart with op.Status.Confirmed); a failed one returns an *OperationError
// (NonCompliance reports a policy refusal). A 2xx reply with a Location
// and no body is pending: the operation has a missing status, keeps its
// Location, and takes its ID from the Location's last segment. A reply
// for another clientContext is ErrBadReply. With every error the returned
// Operation is the zero Operation: nothing in a failed exchange can be
// mistaken for a reply.
//
// Non-2xx replies are *Error. 429, 503 and 504, transport failures before
// any reply and attempts that reach the attempt timeout are retried, up to
// MaxAttempts, within the context's deadline. A Retry-After is honoured up
// to the cap (WithRetryAfterCap); a longer one is never shortened: the
// *Error is returned at once with RetryAfter filled in. Every other error
// (8506 above all) is returned at once.
//
// # A connection that drops after the request was sent
//
// When the connection fails after the POST went out but before any reply
// came back (a reset, a proxy that gives up, the attempt timeout), the
// client cannot tell whether Graph received it, and sends the same POST
// again: the same body, the same clientContext and the same
// client-request-id. Why that is safe for the compliance rule:
//
//   - Permission comes only from a reply we read: media may be persisted
//     after a completed reply (or an authenticated notification) for this
//     clientContext, never because a request was sent. A lost reply is
//     never taken for success.
//   - Both copies ask for the same status, so Graph ends in the same state
//     whichever it applies, or if it applies both; their replies and
//     notifications carry the same clientContext and so belong to the same
//     attempt (they may carry two different operation ids).
//   - The client keeps one request per call in flight, so none of this
//     client's later requests for the call is sent before this one returns.
//
// What it does not make safe, and what to do about it: Graph may still be
// processing the first copy when the client has given up and the caller
// has moved on, so a late "recording" may be applied at Graph after a
// later "notRecording" (Graph's indicator would then say recording while
// the gate is closed; the gate itself never opens on it). A bot that sees
// an UpdateRecordingStatus error for recording should report notRecording
// or failed again once Graph answers. Graph does not document
// clientContext as an idempotency key, so the second copy may be refused,
// or answered with another operation id; only the clientContext ties them
// together. Retries happen only where no reply arrived; a reply of any
// kind ends the attempt.
func (c *Client) UpdateRecordingStatus(ctx context.Context, callID string, status Status, clientContext string) (Operation, error) {
	if err := checkUpdate(callID, status, clientContext); err != nil {
		return Operation{}, err
	}
	body := updateBody(clientContext, status)
	target := c.baseURL + "/communications/calls/" + url.PathEscape(callID) + "/updateRecordingStatus"

	release, err := c.queues.enter(ctx, callID)
	if err != nil {
		return Operation{}, err
	}
	defer release()
	op, err := c.exchange(ctx, http.MethodPost, target, body)
	if err != nil {
		return Operation{}, err
	}
	return updateOutcome(op, clientContext)
}

// checkUpdate checks UpdateRecordingStatus's input. It and updateOutcome
// are out of line so that UpdateRecordingStatus, on the stack for the whole
// round trip, keeps a small frame (see exchange).
//
//go:noinline
func checkUpdate(callID string, status Status, clientContext string) error {
	if err := ValidateCallID(callID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if !status.Valid() {
		return fmt.Errorf("%w: recording status %q: want notRecording, recording or failed", ErrInvalidRequest, string(status))
	}
	if err := ValidateClientContext(clientContext); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	return nil
}

// updateOutcome turns the reply to an updateRecordingStatus request that
// sent clientContext into UpdateRecordingStatus's result.
//
//go:noinline
func updateOutcome(op Operation, clientContext string) (Operation, error) {
	if op.ClientContext != "" && op.ClientContext != clientContext {
		return Operation{}, fmt.Errorf("%w: reply is for clientContext %q, not %q%s", ErrBadReply, op.ClientContext, clientContext, idTags(op.RequestID, ""))
	}
	if op.ID == "" {
		op.ID = operationIDFromLocation(op.Location)
	}
	if err := op.Err(); err != nil {
		return Operation{}, err
	}
	return op, nil
}

// Operation fetches the current state of a pending operation from its
// Location, but only if that Location is on the configured Graph host
// (same scheme and host) and names an operation of the same call;
// otherwise it returns ErrUntrustedLocation and sends nothing.
//
// op is the operation UpdateRecordingStatus returned. The fetched
// operation must belong to it, as a reply must belong to its request: a
// clientContext in the fetched body must equal op.ClientContext, an id in
// it must equal op's (op.ID, or the last segment of op.Location), and at
// least one of the two must match. Anything else is ErrBadReply, never an
// operation the caller could take for this one's outcome. Like
// UpdateRecordingStatus, a failed operation is an *OperationError, and
// every error comes with the zero Operation.
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
		return Operation{}, err
	}
	if err := belongsTo(got, op, loc); err != nil {
		return Operation{}, fmt.Errorf("%w: %w%s", ErrBadReply, err, idTags(got.RequestID, ""))
	}
	if got.Location == "" {
		got.Location = op.Location
	}
	if got.ID == "" {
		got.ID = operationIDFromLocation(loc)
	}
	if err := got.Err(); err != nil {
		return Operation{}, err
	}
	return got, nil
}
