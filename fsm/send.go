package fsm

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

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

// fire fires f's trigger, and finishes the transition it made, if any
// (storeState noted it), as an OnTransitioned hook would: stateless has
// stored the new state and has nothing left to do. An unguarded
// transition (see directTable) is taken here directly: the state is stored
// and the transition finished, exactly what stateless would do for it.
// Called with the lock held.
func (m *Machine) fire(f *firing) error {
	from := m.State()
	if to, ok := direct(from, f.trigger); ok {
		m.state.Store(int32(to))
		m.transitioned(f, from, to)
		return nil
	}
	f.moved = false
	err := m.sm.FireCtx(f, f.trigger)
	if f.moved {
		f.moved = false
		m.transitioned(f, f.from, f.to)
	}
	return err
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
	return &RequestError{CallID: m.callID, Trigger: t, Status: f.status, ClientContext: f.clientContext, State: s, CallEnded: m.gate.ended(), Operation: f.op, Err: cause}
}

// transitioned finishes the transition from -> to that firing f made.
func (m *Machine) transitioned(f *firing, from, to State) {
	if to == Recording {
		if m.authorize(f) {
			openGate(f) // the last step of entering Recording
		}
	}
	if m.cfg.logger != nil { // building the arguments allocates
		m.log(f, slog.LevelInfo, "transition", "from", from, "to", to, "trigger", f.trigger)
	}
	if m.cfg.observer != nil {
		m.emit(Event{Kind: EventTransition, From: from, To: to, Trigger: f.trigger, Via: f.via, Issuer: f.issuer, Tenant: f.tenant})
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
		m.emitRequest(f)
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
	if f.err == nil && f.op.Status != graph.OperationCompleted {
		// (Err is nil for completed; skipping it saves copying the reply.)
		f.err = f.op.Err()
	}
	if f.err == nil && f.op.ClientContext != "" && f.op.ClientContext != f.clientContext {
		// The Updater is trusted no more than graph.Client trusts Graph: a
		// reply that names another attempt is not a reply to this one.
		f.err = foreignReply(f)
	}
	if m.cfg.observer != nil {
		m.emitReply(f)
	}
	if m.cfg.logger != nil {
		m.logReply(f)
	}
}

// The helpers below keep send's own stack frame small. send is on the
// stack for the whole of the Graph request, under stateless's frames and
// above net/http's; every Event or log argument built in its body would
// be part of its frame, and a bigger frame makes the first Start on a
// fresh goroutine grow (copy) its stack once more. They stay out of line
// for that reason.

//go:noinline
func (m *Machine) emitRequest(f *firing) {
	m.emit(Event{Kind: EventRequest, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext})
}

//go:noinline
func (m *Machine) emitReply(f *firing) {
	m.emit(Event{Kind: EventReply, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, Operation: f.op, Err: f.err, Via: ViaReply})
}

//go:noinline
func (m *Machine) logReply(f *firing) { // building the arguments allocates: only with a logger
	m.log(f.parent, slog.LevelInfo, "graph reply", "status", f.status, "clientContext", f.clientContext, "operation", f.op.ID, "operationStatus", f.op.Status, "err", f.err)
}

//go:noinline
func foreignReply(f *firing) error {
	return fmt.Errorf("%w: the reply carries clientContext %q, the request sent %q", ErrForeignReply, f.op.ClientContext, f.clientContext)
}

// reportAttempt records one HTTP attempt of f's request.
func (f *firing) reportAttempt(a graph.Attempt) {
	f.m.emit(Event{Kind: EventAttempt, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, HTTP: a})
}

// authorize records what authorises the gate to open (the completed reply
// or update of the firing, and how it came) before it opens, and reports
// whether it may open: not when a fail-closed audit trail could not write
// that record (the machine then stops; see WithAuditTrail).
func (m *Machine) authorize(f *firing) bool {
	if m.cfg.observer == nil {
		return true
	}
	m.emit(Event{Kind: EventAuthorized, Trigger: f.trigger, Status: f.status, ClientContext: f.clientContext, Operation: f.op,
		Epoch: f.epoch, Via: f.via, Issuer: f.issuer, Tenant: f.tenant})
	return m.auditBlocks() == nil
}

// nextClientContext returns a fresh clientContext: the machine's random
// prefix and a sequence number (at most 54 characters, unique within the
// call and, by the prefix, across calls), or the WithClientContexts
// generator's value, which is checked. Called with the lock held.
func (m *Machine) nextClientContext() (string, error) {
	if next := m.cfg.clientContext; next != nil {
		cc := next()
		if err := graph.ValidateClientContext(cc); err != nil {
			return "", fmt.Errorf("clientContext generator: %w", err)
		}
		// Graph wants a unique clientContext per request: a generator that
		// repeats itself (the call ID, a constant) is caught before the
		// request leaves. The machine's own generator cannot repeat.
		if _, used := m.ccUsed[cc]; used {
			return "", fmt.Errorf("clientContext generator returned %q, which an earlier request of this call carried: %w (Graph requires a unique one per request; return a new value on every call)", cc, graph.ErrInvalidClientContext)
		}
		if m.ccUsed == nil {
			m.ccUsed = make(map[string]struct{})
		}
		m.ccUsed[cc] = struct{}{}
		return cc, nil
	}
	if m.ccTaken == len(m.ccEnds) || m.ccBatch == "" {
		m.makeClientContexts()
	}
	from := 0
	if m.ccTaken > 0 {
		from = int(m.ccEnds[m.ccTaken-1])
	}
	cc := m.ccBatch[from:m.ccEnds[m.ccTaken]]
	m.ccTaken++
	return cc, nil
}

// clientContextBatch is how many clientContexts one allocation holds.
const clientContextBatch = 16

// makeClientContexts reserves the next clientContextBatch sequence numbers
// and writes their clientContexts, one after the other, into one string:
// each clientContext is then a substring, which costs no allocation. (A
// clientContext keeps its batch, about half a kilobyte, alive.) Called
// with the lock held.
func (m *Machine) makeClientContexts() {
	first := m.seq.Add(clientContextBatch) - clientContextBatch + 1
	var digits [24]byte
	seq := strconv.AppendUint(digits[:0], first, 10)
	// Written straight into the string's memory (strings.Builder), sized
	// for the longest sequence number of the batch: one allocation, no copy.
	var last [24]byte
	longest := len(strconv.AppendUint(last[:0], first+clientContextBatch-1, 10))
	var batch strings.Builder
	batch.Grow(clientContextBatch * (len(m.ccPrefix) + longest))
	for i := range clientContextBatch {
		if i > 0 {
			seq = incrementDecimal(seq)
		}
		batch.WriteString(m.ccPrefix)
		batch.Write(seq)
		m.ccEnds[i] = uint16(batch.Len())
	}
	m.ccBatch, m.ccTaken = batch.String(), 0
}

// incrementDecimal adds one to the decimal number in d (digits only, no
// sign), in place where it can, and returns it.
func incrementDecimal(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] != '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	// All nines: 99 + 1 = 100.
	d = append(d, '0')
	d[0] = '1'
	return d
}
