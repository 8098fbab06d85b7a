package fsm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/recgate/recgate/graph"
)

// Registry holds the machines of every call a process serves, keyed by call
// ID, and routes Graph's authenticated notifications to them: it satisfies
// graph/callback's Receiver (Notify), so the callback handler hands it what
// it validated. Its methods are safe for concurrent use.
//
// A machine leaves the registry when its call ends (CallEnded, whether the
// bot calls it or a notification does), or by Remove.
type Registry struct {
	newMachine func(callID string) (*Machine, error)
	cfg        registryConfig

	mu       sync.RWMutex
	machines map[string]*Machine
}

// RegistryOption configures a Registry.
type RegistryOption func(*registryConfig) error

type registryConfig struct {
	logger  *slog.Logger
	ignored func(graph.Notification, IgnoreReason)
}

// IgnoreReason says why Registry.Notify ignored a notification; a short
// constant a metrics adapter can count (WithIgnoredHook).
type IgnoreReason string

// The reasons a notification is ignored.
const (
	// IgnoredUnknownCall: no machine in the registry guards the call (it
	// ended and was removed, it was never created here, or another process
	// serves it).
	IgnoredUnknownCall IgnoreReason = "unknown-call"
	// IgnoredStaleOperation: the update is not about the pending recording
	// attempt (another clientContext or operation, a repeated delivery, an
	// attempt that was stopped or timed out, or no attempt pending).
	IgnoredStaleOperation IgnoreReason = "stale-operation"
	// IgnoredUnknownStatus: the update names the pending attempt but carries
	// a status recgate does not know; the attempt stays pending.
	IgnoredUnknownStatus IgnoreReason = "unknown-status"
	// IgnoredUnknownKind: a kind of notification recgate does not act on.
	IgnoredUnknownKind IgnoreReason = "unknown-kind"
)

// WithRegistryLogger logs every notification the registry ignores (at Info)
// and every one it could not apply in time (at Warn). The default logs
// nothing.
func WithRegistryLogger(l *slog.Logger) RegistryOption {
	return func(c *registryConfig) error {
		if l == nil {
			return errors.New("fsm: WithRegistryLogger(nil): pass a logger, or leave the option out")
		}
		c.logger = l
		return nil
	}
}

// WithIgnoredHook calls fn for every notification Notify ignores, with the
// reason: the place to count them for metrics. It is called synchronously
// from Notify, possibly concurrently; keep it quick and safe for concurrent
// use.
func WithIgnoredHook(fn func(n graph.Notification, why IgnoreReason)) RegistryOption {
	return func(c *registryConfig) error {
		if fn == nil {
			return errors.New("fsm: WithIgnoredHook(nil): pass a function, or leave the option out")
		}
		c.ignored = fn
		return nil
	}
}

// ErrCallExists: Registry.Create was asked for a call it already holds.
var ErrCallExists = errors.New("fsm: the registry already holds a machine for this call")

// NewRegistry returns an empty registry whose Create builds each machine
// with newMachine (typically fsm.New with the bot's Updater and options).
func NewRegistry(newMachine func(callID string) (*Machine, error), opts ...RegistryOption) (*Registry, error) {
	if newMachine == nil {
		return nil, errors.New("fsm.NewRegistry: nil newMachine: pass a function that calls fsm.New")
	}
	r := &Registry{newMachine: newMachine, machines: make(map[string]*Machine)}
	for i, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("fsm.NewRegistry: option %d is nil", i)
		}
		if err := o(&r.cfg); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Create builds the machine for a call the bot joined and holds it. It
// fails with ErrCallExists if the registry already holds one for callID,
// and with newMachine's error. newMachine runs under the registry's write
// lock: keep it quick, and do not call the registry from it.
func (r *Registry) Create(callID string) (*Machine, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.machines[callID]; ok {
		return nil, fmt.Errorf("%w: call %q; Get it, or Remove it first", ErrCallExists, callID)
	}
	m, err := r.newMachine(callID)
	if err != nil {
		return nil, fmt.Errorf("fsm: Registry.Create(%q): %w", callID, err)
	}
	if m == nil {
		return nil, fmt.Errorf("fsm: Registry.Create(%q): newMachine returned no machine and no error", callID)
	}
	if m.CallID() != callID {
		return nil, fmt.Errorf("fsm: Registry.Create(%q): newMachine returned the machine of call %q", callID, m.CallID())
	}
	if m.State() == Ended {
		return nil, fmt.Errorf("fsm: Registry.Create(%q): newMachine returned a machine whose call has ended", callID)
	}
	forget := func() { r.forget(callID, m) }
	if !m.forget.CompareAndSwap(nil, &forget) {
		return nil, fmt.Errorf("fsm: Registry.Create(%q): newMachine returned a machine that a registry already holds; build a new one", callID)
	}
	r.machines[callID] = m
	return m, nil
}

// Get returns the machine of callID, if the registry holds it.
func (r *Registry) Get(callID string) (*Machine, bool) {
	r.mu.RLock()
	m, ok := r.machines[callID]
	r.mu.RUnlock()
	return m, ok
}

// Remove forgets the machine of callID and reports whether there was one.
// It does not end the machine: call CallEnded for that (which removes it by
// itself).
func (r *Registry) Remove(callID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.machines[callID]
	if ok {
		delete(r.machines, callID)
		m.forget.Store(nil)
	}
	return ok
}

// Len returns the number of machines held.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.machines)
}

// forget removes m when its call ended, unless the entry is already
// another machine's.
func (r *Registry) forget(callID string, m *Machine) {
	r.mu.Lock()
	if r.machines[callID] == m {
		delete(r.machines, callID)
	}
	r.mu.Unlock()
}

// Notify routes one authenticated notification (from graph/callback's
// handler) to its call's machine: an operation update goes to the pending
// recording attempt (Machine.Notify: matched by clientContext, or by
// operation id; completed opens the gate, failed refuses the attempt), a
// terminated call ends the machine and removes it.
//
// What cannot be acted on is ignored and returns nil: an unknown call, an
// update for another or no attempt (Graph redelivering, a late completed
// after the confirmation deadline), an unknown status or kind. Each is
// logged (WithRegistryLogger) and reported (WithIgnoredHook), never turned
// into an error that would make Graph deliver it again and again.
//
// Notify returns quickly: a machine busy with a hung Graph request is
// waited for only until ctx ends (the handler's notify timeout); then
// Notify returns an error matching ErrMachineBusy and ctx's error. An
// update is kept and applied once the request returns (see
// Machine.OperationUpdate); for a terminated call, the gate is already
// closed for good and the machine ends by itself once the request returns.
func (r *Registry) Notify(ctx context.Context, n graph.Notification) error {
	m, ok := r.Get(n.CallID)
	if !ok {
		r.ignore(ctx, n, IgnoredUnknownCall, nil)
		return nil
	}
	switch n.Kind {
	case graph.NotificationOperation:
	case graph.NotificationCallEnded:
		// Forget the machine even if it is busy: the gate is closed for
		// good already, and everything it is asked from now on is refused.
		defer r.forget(n.CallID, m)
	default:
		r.ignore(ctx, n, IgnoredUnknownKind, nil)
		return nil
	}
	err := m.Notify(ctx, n)
	var re *RequestError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrMachineBusy):
		if r.cfg.logger != nil {
			r.cfg.logger.LogAttrs(ctx, slog.LevelWarn, "notification not applied yet: the machine stayed busy until the deadline (see the error for what happens to it)",
				notificationAttrs(n, slog.Any("err", err))...)
		}
		return err
	case errors.Is(err, ErrStaleUpdate), errors.Is(err, ErrSuperseded):
		r.ignore(ctx, n, IgnoredStaleOperation, err)
		return nil
	case errors.As(err, &re) && re.Trigger == OperationUpdate && re.State == AwaitingConfirmation:
		r.ignore(ctx, n, IgnoredUnknownStatus, err)
		return nil
	case errors.As(err, &re) && re.Trigger == OperationUpdate:
		// Graph refused the attempt (failed): applied, the machine is back
		// in NotRecording. Not the notification's fault.
		return nil
	}
	return err
}

func (r *Registry) ignore(ctx context.Context, n graph.Notification, why IgnoreReason, err error) {
	if r.cfg.logger != nil {
		attrs := notificationAttrs(n, slog.String("reason", string(why)))
		if err != nil {
			attrs = append(attrs, slog.Any("err", err))
		}
		r.cfg.logger.LogAttrs(ctx, slog.LevelInfo, "notification ignored", attrs...)
	}
	if r.cfg.ignored != nil {
		r.cfg.ignored(n, why)
	}
}

// notificationAttrs describes n for a log line. A notification carries no
// token, so none can reach the log.
func notificationAttrs(n graph.Notification, extra ...slog.Attr) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("call", n.CallID), slog.String("kind", n.Kind.String()),
		slog.String("issuer", n.Issuer), slog.String("tenant", n.Tenant),
	}
	if n.Kind == graph.NotificationOperation {
		attrs = append(attrs, slog.String("operation", n.Operation.ID), slog.String("clientContext", n.Operation.ClientContext),
			slog.String("operationStatus", n.Operation.Status.String()))
	}
	return append(attrs, extra...)
}
