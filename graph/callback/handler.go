package callback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/recgate/recgate/graph"
)

// Defaults of the Handler's options.
const (
	// DefaultMaxBodyBytes caps a notification body: 1 MiB, far above what
	// Graph sends (a few KB) and small enough to refuse a flood.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultNotifyTimeout is the deadline of the context each Notify call
	// gets.
	DefaultNotifyTimeout = 2 * time.Second
)

// Receiver takes the authenticated notifications. Package fsm's registry
// satisfies it without importing this package.
//
// Notify must not block: the handler calls it while Graph waits for the
// reply, one item after the other, with a context whose deadline is the
// notify timeout (WithNotifyTimeout). Graph may deliver a notification more
// than once, so Notify must be idempotent. An error (an unknown call, a stale
// attempt) is logged and otherwise ignored: it never turns into a 5xx,
// which would make Graph deliver the same notification again and again.
type Receiver interface {
	Notify(ctx context.Context, n graph.Notification) error
}

// ReceiverFunc adapts a function to Receiver.
type ReceiverFunc func(ctx context.Context, n graph.Notification) error

// Notify calls f.
func (f ReceiverFunc) Notify(ctx context.Context, n graph.Notification) error { return f(ctx, n) }

// Handler is the http.Handler for a bot's callback URL: it authenticates each
// POST with a Validator, parses Graph's commsNotifications and hands the ones
// recgate acts on to a Receiver. See the package documentation for what it
// answers.
type Handler struct {
	recv          Receiver
	validator     *Validator
	logger        *slog.Logger
	maxBody       int64
	notifyTimeout time.Duration
	onReject      func(RejectReason)
}

// Option configures a Handler.
type Option func(*Handler) error

// WithLogger sets the logger (default slog.Default()). Refusals are logged at
// Warn with their reason, notifications not acted on at Debug (unknown
// kinds) or Info (Notify errors, unusable items); the token never is.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) error {
		if l == nil {
			return errors.New("callback: WithLogger: nil logger")
		}
		h.logger = l
		return nil
	}
}

// WithMaxBodyBytes caps the body of an authenticated request (default
// DefaultMaxBodyBytes); a longer one gets 413.
func WithMaxBodyBytes(n int64) Option {
	return func(h *Handler) error {
		if n <= 0 {
			return fmt.Errorf("callback: WithMaxBodyBytes: %d is not positive", n)
		}
		h.maxBody = n
		return nil
	}
}

// WithNotifyTimeout sets the deadline of the context each Notify call gets
// (default DefaultNotifyTimeout).
func WithNotifyTimeout(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return fmt.Errorf("callback: WithNotifyTimeout: %v is not positive", d)
		}
		h.notifyTimeout = d
		return nil
	}
}

// WithRejectHook calls f with the reason of every refused request (every
// reply that is not 2xx), for example to count them in a metric labelled by
// reason. f must be quick and safe for concurrent use.
func WithRejectHook(f func(RejectReason)) Option {
	return func(h *Handler) error {
		if f == nil {
			return errors.New("callback: WithRejectHook: nil hook")
		}
		h.onReject = f
		return nil
	}
}

// NewHandler returns the callback handler: requests authenticated by v,
// notifications handed to recv.
func NewHandler(recv Receiver, v *Validator, opts ...Option) (*Handler, error) {
	if recv == nil {
		return nil, errors.New("callback: NewHandler: nil Receiver; pass the registry that routes notifications to the calls' machines")
	}
	if v == nil {
		return nil, errors.New("callback: NewHandler: nil Validator; make one with NewValidator and the bot's app ID")
	}
	h := &Handler{
		recv:          recv,
		validator:     v,
		logger:        slog.Default(),
		maxBody:       DefaultMaxBodyBytes,
		notifyTimeout: DefaultNotifyTimeout,
	}
	for _, opt := range opts {
		if err := opt(h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// ServeHTTP authenticates, parses and hands on one POST from Graph.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.refuse(ctx, w, r, http.StatusMethodNotAllowed, RejectMethod, "method "+r.Method)
		return
	}

	// Authentication first: nothing of the body is read before it passed.
	var authorization string
	switch vals := r.Header.Values("Authorization"); len(vals) {
	case 0:
	case 1:
		authorization = vals[0]
	default:
		h.refuse(ctx, w, r, http.StatusUnauthorized, RejectMalformedToken, "several Authorization headers")
		return
	}
	caller, err := h.validator.Validate(ctx, authorization)
	if err != nil {
		var re *RejectError
		if !errors.As(err, &re) {
			re = &RejectError{Reason: RejectMalformedToken, Detail: "unexpected validation error", Err: err}
		}
		if re.Reason == RejectKeysUnavailable || re.Reason == RejectUnknownKey {
			// Neither accepted nor refused: Graph delivers a notification
			// answered 503 again, and drops one answered 401 for good.
			detail := re.Detail
			if re.Err != nil {
				detail += ": " + re.Err.Error() // a fetch error: URLs and statuses, no token
			}
			w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(re.RetryAfter), 10))
			h.refuse(ctx, w, r, http.StatusServiceUnavailable, re.Reason, detail)
			return
		}
		// RFC 6750: error="invalid_token" once there was a token.
		challenge := `Bearer`
		if re.Reason != RejectMissingToken && re.Reason != RejectNotBearer {
			challenge = `Bearer error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
		h.refuse(ctx, w, r, http.StatusUnauthorized, re.Reason, re.Detail)
		return
	}
	received := h.validator.now()

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			h.refuse(ctx, w, r, http.StatusRequestEntityTooLarge, RejectBodyTooLarge, fmt.Sprintf("body longer than %d bytes", h.maxBody))
			return
		}
		h.refuse(ctx, w, r, http.StatusBadRequest, RejectMalformedBody, "reading the body: "+err.Error())
		return
	}
	items, odataType, known, err := parseBody(body)
	if err != nil {
		h.refuse(ctx, w, r, http.StatusBadRequest, RejectMalformedBody, err.Error())
		return
	}
	if !known {
		h.logger.LogAttrs(ctx, slog.LevelInfo, "callback: notification of an unknown type acknowledged",
			slog.String("odataType", odataType), slog.String("issuer", caller.Issuer), slog.String("tenant", caller.Tenant))
		w.WriteHeader(http.StatusAccepted)
		return
	}
	for i, raw := range items {
		n, ok, why := parseItem(raw)
		if !ok {
			h.logger.LogAttrs(ctx, slog.LevelDebug, "callback: notification not acted on",
				slog.Int("item", i), slog.String("changeType", n.ChangeType), slog.String("resourceUrl", n.ResourceURL),
				slog.String("why", why))
			continue
		}
		n.Issuer, n.Tenant, n.Received = caller.Issuer, caller.Tenant, received
		h.deliver(ctx, n)
	}
	w.WriteHeader(http.StatusAccepted)
}

// defaultRetryAfter is the Retry-After of a 503 when the Validator could
// not say when the keys may be had (a wait for a fetch that ran out of
// time): the delay after which a failed fetch is tried again.
const defaultRetryAfter = failedKeyFetchRetryInterval

// retryAfterSeconds is the Retry-After value for d: whole seconds, rounded
// up, at least 1 (defaultRetryAfter when d is 0).
func retryAfterSeconds(d time.Duration) int64 {
	if d <= 0 {
		d = defaultRetryAfter
	}
	return max(1, int64((d+time.Second-1)/time.Second))
}

// deliver hands one notification to the receiver under the notify deadline.
// The request's cancellation is not passed on: once authenticated, a
// notification is delivered even if Graph hangs up.
func (h *Handler) deliver(ctx context.Context, n graph.Notification) {
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.notifyTimeout)
	defer cancel()
	attrs := []slog.Attr{
		slog.String("kind", n.Kind.String()), slog.String("callId", n.CallID),
		slog.String("operationId", n.Operation.ID), slog.String("status", n.Operation.Status.String()),
	}
	if err := h.recv.Notify(nctx, n); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelInfo, "callback: notification not applied", append(attrs, slog.String("err", err.Error()))...)
		return
	}
	h.logger.LogAttrs(ctx, slog.LevelDebug, "callback: notification handed on", attrs...)
}

// refuse answers a refused request with a short plain-text reason, logs it
// and calls the reject hook. detail never contains the token.
func (h *Handler) refuse(ctx context.Context, w http.ResponseWriter, r *http.Request, status int, reason RejectReason, detail string) {
	h.logger.LogAttrs(ctx, slog.LevelWarn, "callback: request refused",
		slog.Int("status", status), slog.String("reason", string(reason)), slog.String("detail", detail),
		slog.String("remote", r.RemoteAddr))
	if h.onReject != nil {
		h.onReject(reason)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	fmt.Fprintf(w, "%s: %s\n", http.StatusText(status), reason)
}
