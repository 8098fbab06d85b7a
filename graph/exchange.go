package graph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
)

// exchange sends one logical request, with its retries, and reads the
// reply into an Operation. With an error, the Operation is zero.
//
// exchange and attempt are on the caller's stack for the whole round trip,
// above net/http's frames, so what they do besides sending (reporting,
// deciding a retry, reading the reply, building errors) sits in functions
// of its own: on a fresh goroutine a bigger frame here means one more stack
// growth (a copy) before the first request, which shows in
// start-to-confirmed under load.
func (c *Client) exchange(ctx context.Context, method, target string, body []byte) (Operation, error) {
	clientRequestID := uuid.NewString() // one per logical request, kept across retries
	clientRequestIDHeader := []string{clientRequestID}
	flags := mayRefreshToken
	report, _ := ctx.Value(attemptReporterKey{}).(func(Attempt))
	for attempt := 1; ; attempt++ {
		began := time.Now()
		op, code, retryable, wait, err := c.attempt(ctx, method, target, body, clientRequestIDHeader, flags)
		if report != nil {
			reportAttempt(report, attempt, method, clientRequestID, began, op, code, retryable, wait, err)
		}
		if err == nil {
			return op, nil
		}
		if !retryable {
			return Operation{}, err
		}
		if flags, err = c.awaitRetry(ctx, attempt, flags, wait, clientRequestID, err); err != nil {
			return Operation{}, err
		}
	}
}

// attemptFlags say how to make an attempt.
type attemptFlags uint8

const (
	// freshConnection: do not reuse a connection (after a 503).
	freshConnection attemptFlags = 1 << iota
	// mayRefreshToken: a 401 may still be retried with a fresh token
	// (once per request).
	mayRefreshToken
)

// awaitRetry decides whether attempt's failure err may be retried and, if
// so, waits before the next attempt: Graph's Retry-After (wait) or the
// backoff; after a 401 (a token refused, already invalidated) it does not
// wait. It returns the next attempt's flags (a fresh connection after a
// 503; no second token refresh after one), or the error that ends the
// request.
//
//go:noinline
func (c *Client) awaitRetry(ctx context.Context, attempt int, flags attemptFlags, wait time.Duration, clientRequestID string, err error) (attemptFlags, error) {
	if attempt >= c.maxAttempts {
		return 0, fmt.Errorf("graph: gave up after %d attempts (graph.WithMaxAttempts): %w; Graph stayed throttled or unreachable: try again later, or allow more attempts", attempt, err)
	}
	var ge *Error
	if errors.As(err, &ge) && ge.StatusCode == http.StatusUnauthorized {
		// The token source was told; its next token is fresh. Waiting
		// would not make it fresher.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, errors.Join(ctxErr, err)
		}
		if c.logger != nil {
			c.logger.LogAttrs(ctx, slog.LevelDebug, "graph: retrying with a fresh token after HTTP 401", slog.Int("attempt", attempt),
				slog.String("client-request-id", clientRequestID))
		}
		return flags &^ (mayRefreshToken | freshConnection), nil
	}
	if wait > c.retryAfterCap {
		// Retrying at the cap would be sooner than Graph asked.
		return 0, fmt.Errorf("graph: not retrying: Graph asked to wait %s (Retry-After), longer than the client's cap of %s (WithRetryAfterCap); try again after that time: %w",
			wait.Round(time.Second), c.retryAfterCap, err)
	}
	if wait <= 0 {
		wait = min(c.backoff(attempt), c.retryAfterCap)
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return 0, fmt.Errorf("graph: not retrying: waiting %s would pass the context's deadline: %w", wait.Round(time.Millisecond), err)
	}
	if c.logger != nil {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "graph: retrying", slog.Int("attempt", attempt), slog.Duration("wait", wait),
			slog.String("client-request-id", clientRequestID), slog.String("err", err.Error()))
	}
	timer := time.NewTimer(wait)
	select {
	case <-ctx.Done():
		timer.Stop()
		return 0, errors.Join(ctx.Err(), err)
	case <-timer.C:
	}
	flags &^= freshConnection
	if errors.As(err, &ge) && ge.StatusCode == http.StatusServiceUnavailable {
		flags |= freshConnection
	}
	return flags, nil
}

// reportAttempt hands one attempt to the context's reporter.
//
//go:noinline
func reportAttempt(report func(Attempt), n int, method, clientRequestID string, began time.Time, op Operation, code int, retryable bool, wait time.Duration, err error) {
	report(describeAttempt(n, method, clientRequestID, began, op, code, retryable, wait, err))
}

// Attempt is one HTTP attempt of a request, as the Client reports it to
// the reporter its context carries (WithAttemptReporter). A request that
// is throttled and then answered is two Attempts with the same
// ClientRequestID.
type Attempt struct {
	// Number counts the attempts of one request from 1.
	Number int
	// Method is POST for updateRecordingStatus, GET for reading an
	// operation's Location.
	Method string
	// Started is when the attempt began; Duration how long it took, token
	// and whole reply included.
	Started  time.Time
	Duration time.Duration
	// StatusCode is the HTTP status of the reply, 0 when none came (a
	// dropped connection, a timeout, a token that could not be had).
	StatusCode int
	// Code is the Graph error code of a non-2xx reply ("8506",
	// "Forbidden", "TooManyRequests"), InnerCodes those of its nested
	// innerError objects.
	Code       string
	InnerCodes []string
	// RetryAfter is the reply's Retry-After, zero when absent.
	RetryAfter time.Duration
	// ClientRequestID is the id the client sent (the same for every
	// attempt of a request); RequestID the one Graph answered with.
	ClientRequestID string
	RequestID       string
	// Retryable says whether the client may send the request again after
	// this attempt (it still may not: attempts and deadlines run out).
	Retryable bool
	// Err is the attempt's error, nil for a usable 2xx reply.
	Err error
}

type attemptReporterKey struct{}

// WithAttemptReporter returns a context that makes the Client call report
// once per HTTP attempt of every request made with it
// (UpdateRecordingStatus and Operation), right after the attempt, on the
// caller's goroutine: retries, throttling and error replies become
// visible one by one. report must be quick and must not call the Client.
// fsm passes one in when an audit trail or an observer wants the attempts.
func WithAttemptReporter(ctx context.Context, report func(Attempt)) context.Context {
	if report == nil {
		return ctx
	}
	return context.WithValue(ctx, attemptReporterKey{}, report)
}

func describeAttempt(n int, method, clientRequestID string, began time.Time, op Operation, code int, retryable bool, wait time.Duration, err error) Attempt {
	a := Attempt{Number: n, Method: method, Started: began, Duration: time.Since(began), StatusCode: code, ClientRequestID: clientRequestID,
		RequestID: op.RequestID, RetryAfter: wait, Retryable: retryable, Err: err}
	if err == nil {
		return a
	}
	var ge *Error
	if errors.As(err, &ge) {
		a.StatusCode, a.Code, a.InnerCodes, a.RetryAfter = ge.StatusCode, ge.Code, ge.InnerCodes, ge.RetryAfter
		a.RequestID = ge.RequestID
		if ge.ClientRequestID != "" {
			a.ClientRequestID = ge.ClientRequestID
		}
	}
	return a
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

// attemptContext gives one attempt its deadline: the attempt timeout, or
// the caller's deadline when that comes first (then no timer is made).
func (c *Client) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= c.attemptTimeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.attemptTimeout)
}

// contextFailure names why an attempt's I/O failed when a deadline or a
// cancellation caused it: the caller's context (its error), or the
// attempt timeout (ErrAttemptTimeout and context.DeadlineExceeded). It is
// nil when neither context has ended.
func (c *Client) contextFailure(ctx, attemptCtx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if attemptCtx.Err() != nil {
		return fmt.Errorf("%w after %s: %w", ErrAttemptTimeout, c.attemptTimeout, context.DeadlineExceeded)
	}
	return nil
}

// attempt makes one HTTP request. code is the reply's HTTP status (0 when no
// reply came); retryable says whether the same request
// may be sent again; wait is the server's Retry-After, if any.
//
// clientRequestID is the request's id as a header value (one element),
// made once for all its attempts.
//
// A 401 reply is retryable when the token source is a TokenInvalidator
// (told here that the token was refused) and flags still allow a token
// refresh.
func (c *Client) attempt(ctx context.Context, method, target string, body []byte, clientRequestID []string, flags attemptFlags) (op Operation, code int, retryable bool, wait time.Duration, err error) {
	actx, cancel := c.attemptContext(ctx)
	defer cancel() // after the body is read: the timeout covers it
	req, auth, err := c.newRequest(ctx, actx, method, target, body, clientRequestID, flags&freshConnection != 0)
	if err != nil {
		return Operation{}, 0, false, 0, err
	}
	resp, err := c.send(req)
	if err != nil {
		retryable, err := c.sendFailure(ctx, actx, method, target, err)
		return Operation{}, 0, retryable, 0, err
	}
	op, code, retryable, wait, err = c.readOperation(ctx, actx, resp, clientRequestID[0])
	if code == http.StatusUnauthorized && c.invalidator != nil && err != nil {
		retryable, err = c.tokenRefused(ctx, auth, flags&mayRefreshToken != 0, err)
	}
	return op, code, retryable, wait, err
}

// newRequest builds one attempt's request, with the Authorization header
// of a token good at actx, and returns that header too.
func (c *Client) newRequest(ctx, actx context.Context, method, target string, body []byte, clientRequestID []string, freshConnection bool) (*http.Request, *authHeader, error) {
	auth, err := c.authorization(actx)
	if err != nil {
		return nil, nil, c.authorizationFailure(ctx, actx, err)
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, target, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	// The keys are written in canonical form, so no Set has to
	// canonicalize them on every request.
	h := req.Header
	h["Authorization"] = []string{auth.value}
	if body != nil {
		h["Content-Type"] = jsonMediaType
	}
	h["Accept"] = jsonMediaType
	h["User-Agent"] = c.userAgentHeader
	h["Client-Request-Id"] = clientRequestID
	req.Close = freshConnection // after a 503, do not reuse the connection
	return req, auth, nil
}

// authorizationFailure adds to a token failure the deadline or
// cancellation that caused it, if any.
//
//go:noinline
func (c *Client) authorizationFailure(ctx, actx context.Context, err error) error {
	if cf := c.contextFailure(ctx, actx); cf != nil && !errors.Is(err, cf) {
		err = fmt.Errorf("%w (%w)", err, cf)
	}
	return err
}

// sendFailure names why no reply came, and whether the request may be
// sent again.
//
//go:noinline
func (c *Client) sendFailure(ctx, actx context.Context, method, target string, err error) (retryable bool, _ error) {
	if ctx.Err() != nil { // the caller's deadline or cancellation: final
		return false, fmt.Errorf("graph: %s %s: %w", method, redactURL(target), ctx.Err())
	}
	if cf := c.contextFailure(ctx, actx); cf != nil {
		// The attempt timed out with no reply: like a dropped
		// connection, the request may be sent again.
		return true, fmt.Errorf("graph: %s %s: no reply: %w", method, redactURL(target), cf)
	}
	// No reply at all: the request may be sent again.
	return true, fmt.Errorf("graph: %s %s: no reply: %w", method, redactURL(target), unwrapURLError(err))
}

// readOperation reads a reply into an Operation, or into the error that
// says why it is not one (then with the reply's status code, and for an
// error reply whether it may be retried and after how long).
func (c *Client) readOperation(ctx, actx context.Context, resp *http.Response, clientRequestID string) (op Operation, code int, retryable bool, wait time.Duration, err error) {
	defer resp.Body.Close()
	buf := c.replyBuffers.get()
	defer c.replyBuffers.put(buf) // after parsing: nothing read keeps a reference to it
	raw, readErr := readReply(buf, resp.Body, MaxReplyBytes+1)
	if readErr != nil {
		if cf := c.contextFailure(ctx, actx); cf != nil {
			readErr = cf // a deadline while reading is the deadline, not noise
		}
	}
	requestID := headerValue(resp.Header, "Request-Id")

	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return Operation{}, resp.StatusCode, false, 0, fmt.Errorf("%w: HTTP %d to %q%s", ErrRedirect, resp.StatusCode, headerValue(resp.Header, "Location"), idTags(requestID, clientRequestID))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ge := c.errorReply(ctx, resp, raw, clientRequestID)
		return Operation{}, resp.StatusCode, ge.Temporary(), ge.RetryAfter, ge
	}
	bad := func(cause error) (Operation, int, bool, time.Duration, error) {
		return Operation{}, resp.StatusCode, false, 0, fmt.Errorf("%w: HTTP %d: %w%s", ErrBadReply, resp.StatusCode, cause, idTags(requestID, clientRequestID))
	}
	location := headerValue(resp.Header, "Location")
	switch {
	case readErr != nil:
		return bad(fmt.Errorf("reading the body: %w", readErr))
	case len(raw) > MaxReplyBytes:
		return bad(fmt.Errorf("body larger than %d bytes", MaxReplyBytes))
	case len(raw) == 0 && location == "":
		return bad(errors.New("empty body and no Location: cannot tell whether Graph accepted the request"))
	case len(raw) == 0:
		// Accepted, outcome to come (typically a 202): pending, with a
		// missing status, and the Location to follow it by.
		op = Operation{}
	default:
		if contentType := headerValue(resp.Header, "Content-Type"); !isJSON(contentType) {
			return bad(fmt.Errorf("Content-Type %q, want application/json", contentType))
		}
		if op, err = ParseOperation(raw); err != nil {
			return bad(err)
		}
	}
	op.Location = location
	op.RequestID = requestID
	op.ClientRequestID = firstNonEmpty(headerValue(resp.Header, "Client-Request-Id"), clientRequestID)
	return op, resp.StatusCode, false, 0, nil
}

// errorReply reads a non-2xx reply into an *Error, filling what the body
// lacks from the headers, and logs it.
func (c *Client) errorReply(ctx context.Context, resp *http.Response, raw []byte, clientRequestID string) *Error {
	ge := ParseErrorBody(resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	if ge.RequestID == "" {
		ge.RequestID = resp.Header.Get("request-id")
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
	return ge
}

var jsonMediaType = []string{"application/json"}

// headerValue is h.Get(key) for a key already in canonical form: no
// canonicalisation (which allocates for keys like Request-Id) per call.
func headerValue(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

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
