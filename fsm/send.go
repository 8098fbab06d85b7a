package fsm

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/internal/hooks"
)

// begin resets the machine's one firing for a new attempt. Transitions run
// one at a time under the machine's lock, and the firing never leaves the package (the
// Updater gets a context of its own), so one value serves them all without
// an allocation.
func (m *Machine) begin(ctx context.Context, t Trigger) *firing {
	m.current = firing{parent: ctx, m: m, trigger: t}
	if a := m.cfg.audit; a != nil {
		a.bind(m)
	}
	return &m.current
}

func (m *Machine) fire(f *firing) error {
	return m.sm.FireCtx(f, f.trigger)
}

// unhandled turns stateless's "no transition" into recgate's errors.
func (m *Machine) unhandled(ctx context.Context, state stateless.State, trigger stateless.Trigger, unmet []string) error {
	s, t := state.(State), trigger.(Trigger)
	f := firingFrom(ctx)
	if len(unmet) == 0 || f == nil {
		return &TransitionError{State: s, Trigger: t}
	}
	cause := f.err
	if cause == nil {
		cause = fmt.Errorf("reply status %s is not what %s needs", f.op.Status, t)
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(ctx, slog.LevelWarn, "graph did not confirm", "trigger", t, "status", f.status, "clientContext", f.clientContext, "err", cause)
	}
	return &RequestError{CallID: m.callID, Trigger: t, Status: f.status, ClientContext: f.clientContext, State: s, Operation: f.op, Err: cause}
}

func (m *Machine) transitioned(ctx context.Context, tr stateless.Transition) {
	from, to, t := tr.Source.(State), tr.Destination.(State), tr.Trigger.(Trigger)
	if to == Recording {
		if m.authorize(ctx) {
			openGate(ctx) // the last step of entering Recording
		}
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(ctx, slog.LevelInfo, "transition", "from", from, "to", to, "trigger", t)
	}
	if m.cfg.observer != nil {
		e := Event{Kind: EventTransition, From: from, To: to, Trigger: t}
		if f := firingFrom(ctx); f != nil {
			e.Via, e.Issuer, e.Tenant = f.via, f.issuer, f.tenant
		}
		m.emit(e)
	}
}

// send makes the one Graph request of a firing and keeps the reply in it.
func (m *Machine) send(f *firing) {
	if m.gate.ended() {
		f.err = ErrCallEnded
		return
	}
	if f.status == graph.StatusRecording && m.gate.epoch() != f.epoch {
		f.err = ErrSuperseded
		return
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventRequest, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext})
	}
	if f.status == graph.StatusRecording {
		if err := m.auditBlocks(); err != nil {
			f.err = err // fail closed: no recording without its evidence
			return
		}
	}
	if m.mutant(hooks.OpenBeforeReply) && f.status == graph.StatusRecording {
		m.gate.open(f.epoch)
	}
	f.via = ViaReply
	rctx, release := m.requestContext(f.parent)
	if m.cfg.observer != nil {
		rctx = graph.WithAttemptReporter(rctx, f.reportAttempt)
	}
	if m.mutant(hooks.UnlockedRequest) {
		m.unlock()
	}
	f.op, f.err = m.updater.UpdateRecordingStatus(rctx, m.callID, f.status, f.clientContext)
	if m.mutant(hooks.UnlockedRequest) {
		_ = m.lock(context.Background(), f.trigger) // under the checker: never gives up
	}
	release()
	if f.err == nil {
		f.err = f.op.Err()
	}
	if f.err == nil && f.op.ClientContext != "" && f.op.ClientContext != f.clientContext {
		// The Updater is trusted no more than graph.Client trusts Graph: a
		// reply that names another attempt is not a reply to this one.
		f.err = fmt.Errorf("%w: the reply carries clientContext %q, the request sent %q", ErrForeignReply, f.op.ClientContext, f.clientContext)
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventReply, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, Operation: f.op, Err: f.err, Via: ViaReply})
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(f.parent, slog.LevelInfo, "graph reply", "status", f.status, "clientContext", f.clientContext, "operation", f.op.ID, "operationStatus", f.op.Status, "err", f.err)
	}
}

// reportAttempt records one HTTP attempt of f's request.
func (f *firing) reportAttempt(a graph.Attempt) {
	f.m.emit(Event{Kind: EventAttempt, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, HTTP: a})
}

// authorize records what authorises the gate to open (the completed reply
// or update of the firing, and how it came) before it opens, and reports
// whether it may open: not when a fail-closed audit trail could not write
// that record (the machine then stops; see WithAuditTrail).
func (m *Machine) authorize(ctx context.Context) bool {
	f := firingFrom(ctx)
	if f == nil || m.cfg.observer == nil {
		return true
	}
	m.emit(Event{Kind: EventAuthorized, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, Operation: f.op,
		Epoch: f.epoch, Via: f.via, Issuer: f.issuer, Tenant: f.tenant})
	return m.auditBlocks() == nil
}

// nextClientContext returns a fresh clientContext: the machine's random
// prefix and a sequence number (at most 54 characters, unique within the
// call and, by the prefix, across calls), or the WithClientContexts
// generator's value, which is checked.
func (m *Machine) nextClientContext() (string, error) {
	if next := m.cfg.clientContext; next != nil {
		cc := next()
		if err := graph.ValidateClientContext(cc); err != nil {
			return "", fmt.Errorf("clientContext generator: %w", err)
		}
		return cc, nil
	}
	var b [64]byte
	out := append(b[:0], m.ccPrefix...)
	return string(strconv.AppendUint(out, m.seq.Add(1), 10)), nil
}
