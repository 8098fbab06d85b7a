package fsm

import (
	"errors"
	"log/slog"
	"time"

	"github.com/recgate/recgate/internal/hooks"
)

// Option configures a Machine.
type Option func(*config) error

type config struct {
	checker       *hooks.Hooks
	audit         *auditTrail
	hook          EndedHook
	logger        *slog.Logger
	observer      func(Event)
	clientContext func() string

	// deadline is the confirmation deadline (WithConfirmationDeadline);
	// after starts its timer (time.AfterFunc, or a test's clock); poll is
	// the opt-in Location polling (WithOperationPolling).
	deadline time.Duration
	after    afterFunc
	poll     *pollConfig
}

func defaultConfig() config {
	return config{deadline: DefaultConfirmationDeadline, after: realAfter}
}

// WithRecordingEndedHook sets the hook that flushes and closes the bot's
// recording; see EndedHook.
func WithRecordingEndedHook(h EndedHook) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("fsm: WithRecordingEndedHook(nil): pass a hook, or leave the option out")
		}
		c.hook = h
		return nil
	}
}

// WithLogger logs each transition and Graph exchange at Info (refusals at
// Warn). The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("fsm: WithLogger(nil): pass a logger, or leave the option out")
		}
		c.logger = l
		return nil
	}
}

// WithObserver calls fn synchronously for every Event. Most events come
// from inside a transition, under the machine's lock; the gate-closed events
// of Stop, Fail and CallEnded come before it, possibly concurrently, so fn
// must be safe for concurrent use. Gate events are told one at a time, in
// the order the gate moved (the gate itself closes at once, before its
// event). Keep fn quick, and do not call the machine from it: a call from a
// gate event deadlocks.
func WithObserver(fn func(Event)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("fsm: WithObserver(nil): pass a function, or leave the option out")
		}
		c.observer = fn
		return nil
	}
}

// WithClientContexts replaces the generator of clientContext values. Each
// value must be unique per request, non-empty and at most 256 characters; a
// bad value, or one the generator gave before for this call, fails that
// request before anything is sent: a Stop or Fail that fails so has closed
// the gate but cannot report until the generator returns a new value.
func WithClientContexts(next func() string) Option {
	return func(c *config) error {
		if next == nil {
			return errors.New("fsm: WithClientContexts(nil): pass a generator, or leave the option out")
		}
		c.clientContext = next
		return nil
	}
}
