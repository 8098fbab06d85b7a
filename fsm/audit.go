package fsm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/graph"
)

// AuditRecord is one line of the audit trail: one event of the machine,
// with the identifiers a reviewer or Microsoft support needs, chained to
// the line before it by that line's SHA-256.
type AuditRecord struct {
	Seq uint64 `json:"seq"` // the line's number in the trail, from 1
	// Time is when the line was written; it never goes back within a trail.
	Time    time.Time `json:"time"`
	CallID  string    `json:"callId"`            // the call the machine guards
	Kind    EventKind `json:"kind"`              // what happened (the Event's kind)
	Trigger string    `json:"trigger,omitempty"` // the transition under way (Start, Stop...; Recover for a recovery's records)
	From    string    `json:"from,omitempty"`    // a transition's source state
	To      string    `json:"to,omitempty"`      // and its destination
	// Attempt numbers the recording attempts of the trail (each recording
	// request begins one); every record carries the attempt under way.
	Attempt uint64 `json:"attempt,omitempty"`
	// Status is the status a request reported (recording, notRecording,
	// failed), on the request and on its outcome; ClientContext the
	// request's clientContext.
	Status        string `json:"status,omitempty"`
	ClientContext string `json:"clientContext,omitempty"`
	// ClientRequestID and RequestID identify the HTTP exchange (the
	// client-request-id sent, the request-id Graph answered), and
	// OperationID the operation Graph returned: what Microsoft support
	// asks for.
	ClientRequestID string `json:"clientRequestId,omitempty"`
	RequestID       string `json:"requestId,omitempty"`
	OperationID     string `json:"operationId,omitempty"`
	// OperationStatus is the operation's status in a reply, update or
	// authorization; empty when no operation came back (an HTTP error).
	OperationStatus string `json:"operationStatus,omitempty"`
	// ResultInfo is a failed operation's resultInfo (code/subcode: message).
	ResultInfo string `json:"resultInfo,omitempty"`
	// GateOpen is set on a gate record: true when the gate opened, false
	// when it closed; Epoch is the gate's epoch then (on an authorization
	// too: the epoch the attempt may open).
	GateOpen *bool  `json:"gateOpen,omitempty"`
	Epoch    uint64 `json:"epoch,omitempty"`
	// HTTPAttempt, HTTPMethod, HTTPStatus and RetryAfter describe one HTTP
	// attempt (kind http-attempt; HTTPStatus also on a reply that was an
	// HTTP error). HTTPStatus 0 on an attempt: no reply came.
	HTTPAttempt int    `json:"httpAttempt,omitempty"`
	HTTPMethod  string `json:"httpMethod,omitempty"`
	HTTPStatus  int    `json:"httpStatus,omitempty"`
	RetryAfter  string `json:"retryAfter,omitempty"`
	// ErrorCode is Graph's error code of an HTTP error ("8506",
	// "Forbidden", "TooManyRequests"), InnerErrorCodes those nested in it.
	ErrorCode       string   `json:"errorCode,omitempty"`
	InnerErrorCodes []string `json:"innerErrorCodes,omitempty"`
	// Via says how an outcome arrived (reply, notification, poll, caller);
	// Issuer and Tenant, who vouched for a notification (its validated
	// token's iss and tid).
	Via    string `json:"via,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	// Error is the error of an outcome, an update or a hook, in words.
	Error string `json:"error,omitempty"`
	// Prev is the hex SHA-256 of the previous line (without its newline);
	// the first line's Prev is the hash of the call ID.
	Prev string `json:"prev"`
}

// ErrAuditTrail matches the error of a recording attempt refused because
// the audit trail cannot be written (fail-closed mode, the default of
// WithAuditTrail): no recording is asked for, and the gate never opens,
// without its evidence. AuditErr says what failed.
var ErrAuditTrail = errors.New("fsm: the audit trail cannot be written, so the gate stays closed (fail-closed audit); see Machine.AuditErr")

// AuditOption configures WithAuditTrail.
type AuditOption func(*auditTrail)

// AuditBestEffort switches off fail-closed mode: a write error is kept
// and reported by AuditErr, and recording goes on without a trail. Use it
// only where the trail is a convenience, not evidence.
func AuditBestEffort() AuditOption { return func(a *auditTrail) { a.bestEffort = true } }

// syncer is a writer that can be made durable (an *os.File).
type syncer interface{ Sync() error }

// auditTrail writes the records; it is an observer.
type auditTrail struct {
	mu         sync.Mutex
	w          io.Writer
	sync       syncer // nil when w cannot Sync
	bestEffort bool
	callID     string
	seq        uint64
	prev       string
	last       time.Time
	attempt    uint64
	err        error
	broken     atomic.Bool // err != nil, readable without the lock
	machine    atomic.Pointer[Machine]
}

// WithAuditTrail writes one JSON line per event to w: transitions, Graph
// requests, every HTTP attempt of each (status code, Retry-After, Graph's
// error code, client-request-id, request-id) and its outcome, later
// operation updates (and how each came: a notification with the issuer and
// tenant that vouched for it, a poll, or the bot), what authorised the
// gate to open (the completed operation's id and clientContext, and how it
// came), the gate opening and closing, the leases drained, the hook run.
// Every line names the trigger that caused it. Each line carries the time,
// the call ID, the attempt number, and the SHA-256 of the line before it,
// so VerifyAuditTrail can tell whether anything was removed, changed or
// reordered, and AuditIntervals can say what authorised each recorded
// interval. No token ever reaches the machine, so none can reach the trail.
//
// # Fail closed
//
// By default the trail fails closed: the gate cannot open while the trail
// cannot be written. The record of what authorises the gate is written
// (and synced) before the gate opens; if that write fails, the gate stays
// closed. Once a write has failed, Start sends no recording request and
// returns an error matching ErrAuditTrail; a gate that is open (or an
// attempt that is pending) when a write fails is closed through the normal
// Stop path, started by the machine itself: the gate closes, the leases
// drain, the recording-ended hook runs, and notRecording is sent. The
// failure is kept and reported by AuditErr; the machine's log says so
// too. AuditBestEffort restores the old behaviour (recording goes on).
//
// # Durability
//
// Each record is one Write of one line: recgate buffers nothing, so
// whatever w buffers is all that a crash of the process can lose. If w
// has a Sync method (an *os.File does), the records that open and close
// the gate (authorized, gate), the Graph requests and their outcomes
// (request, reply, update) and the end of the call are followed by Sync,
// before the machine goes on: a gate is never open on the strength of a
// record that is still only in the operating system's cache. (A reply or
// update that confirms recording reaches the disk with the Sync of the
// authorized record written right after it, before the gate opens.) A Sync error
// counts as a write error. Other records (HTTP attempts, transitions,
// leases drained, hook ran) reach the file with their Write and the disk
// with the next Sync.
func WithAuditTrail(w io.Writer, opts ...AuditOption) Option {
	return func(c *config) error {
		if w == nil {
			return errors.New("fsm: WithAuditTrail(nil): pass a writer, or leave the option out")
		}
		a := &auditTrail{w: w}
		a.sync, _ = w.(syncer)
		for i, o := range opts {
			if o == nil {
				return fmt.Errorf("fsm: WithAuditTrail: audit option %d is nil", i)
			}
			o(a)
		}
		c.audit = a
		return nil
	}
}

// AuditErr reports the first error writing the audit trail, if any.
func (m *Machine) AuditErr() error {
	if m.cfg.audit == nil {
		return nil
	}
	m.cfg.audit.mu.Lock()
	defer m.cfg.audit.mu.Unlock()
	return m.cfg.audit.err
}

// AuditHead returns the SHA-256 of the trail's last line so far. Keep it
// somewhere the trail's writer cannot change (a log, a ticket, a signed
// report): VerifyAuditTrailHead then also catches an edited last line or a
// trail cut short.
func (m *Machine) AuditHead() string {
	if m.cfg.audit == nil {
		return ""
	}
	m.cfg.audit.mu.Lock()
	defer m.cfg.audit.mu.Unlock()
	return m.cfg.audit.prev
}

// auditBlocks returns an error wrapping ErrAuditTrail when a fail-closed
// trail has failed: the gate must not open and no recording be asked for.
func (m *Machine) auditBlocks() error {
	a := m.cfg.audit
	if a == nil || a.bestEffort || !a.broken.Load() {
		return nil
	}
	return fmt.Errorf("%w: %w; this machine cannot record again: fix the trail's storage, then build a new machine with a new trail", ErrAuditTrail, m.AuditErr())
}

// bind tells the trail which machine it records, so that a failed write
// can stop that machine.
func (a *auditTrail) bind(m *Machine) {
	if a.machine.Load() == nil {
		a.machine.CompareAndSwap(nil, m)
	}
}

// failed is called once, when the first write fails. In fail-closed mode a
// machine that is recording, or waiting for a confirmation, is stopped
// through Stop, in a goroutine of its own: the write may have failed under
// the machine's lock.
func (a *auditTrail) failed(err error) {
	m := a.machine.Load()
	if a.bestEffort || m == nil {
		return
	}
	if s := m.State(); s != Recording && s != AwaitingConfirmation && !m.gate.IsOpen() {
		return
	}
	go func() {
		// As for an expired confirmation: the report is a request of its
		// own, whatever the confirmation deadline is.
		ctx, cancel := context.WithTimeout(context.Background(), max(m.cfg.deadline, DefaultConfirmationDeadline))
		defer cancel()
		stopErr := m.Stop(ctx)
		m.log(ctx, slog.LevelError, "the audit trail cannot be written: the machine stopped the recording (fail-closed audit)",
			"err", err, "stop", stopErr)
	}()
}

func genesis(callID string) string {
	sum := sha256.Sum256([]byte("recgate audit trail for call " + callID))
	return hex.EncodeToString(sum[:])
}

// durable reports whether a record of kind e is synced after it is written.
func durable(e Event) bool {
	switch e.Kind {
	case EventReply, EventUpdate:
		// A reply or update that confirms recording is followed at once
		// by the authorized record, whose Sync makes both durable before
		// the gate opens: one Sync fewer on the way to the gate. Should
		// the process die between the two, the trail shows a recording
		// request with no durable outcome, which Recover puts right as it
		// does a confirmed one (the hook, then failed).
		return e.Err != nil || e.Status != graph.StatusRecording || !e.Operation.Status.Confirmed()
	case EventAuthorized, EventGate, EventRequest:
		return true
	case EventTransition:
		return e.To == Ended
	}
	return false
}

func (a *auditTrail) record(e Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return
	}
	if a.prev == "" {
		a.callID = e.CallID
		a.prev = genesis(e.CallID)
	}
	if e.Kind == EventRequest && e.Status == graph.StatusRecording {
		a.attempt++
	}
	// Stamped under the lock, so that lines written by concurrent events
	// (a Stop's gate close beside a transition) never go back in time.
	now := time.Now().UTC()
	if now.Before(a.last) {
		now = a.last
	}
	r := describe(e)
	r.Seq, r.Time, r.CallID, r.Attempt, r.Prev = a.seq+1, now, e.CallID, a.attempt, a.prev
	line, err := json.Marshal(r)
	if err == nil {
		_, err = a.w.Write(append(line, '\n'))
		if err == nil && a.sync != nil && durable(e) {
			if err = a.sync.Sync(); err != nil {
				err = fmt.Errorf("syncing: %w", err)
			}
		}
	}
	if err != nil {
		a.err = fmt.Errorf("fsm: writing the audit trail (record %d, %s): %w", a.seq+1, e.Kind, err)
		a.broken.Store(true)
		a.failed(a.err)
		return
	}
	a.seq++
	a.last = now
	sum := sha256.Sum256(line)
	a.prev = hex.EncodeToString(sum[:])
}

// describe turns an event into a record, without the chain's fields.
func describe(e Event) AuditRecord {
	r := AuditRecord{Kind: e.Kind, Trigger: e.Trigger.String(), Via: string(e.Via), Issuer: e.Issuer, Tenant: e.Tenant}
	switch e.Kind {
	case EventTransition:
		r.From, r.To = e.From.String(), e.To.String()
	case EventRequest:
		r.Status, r.ClientContext = string(e.Status), e.ClientContext
	case EventReply, EventAuthorized:
		r.Status, r.ClientContext = string(e.Status), e.ClientContext
		describeOperation(&r, e.Operation, e.Err)
		if e.Kind == EventAuthorized {
			r.Epoch = e.Epoch
		}
	case EventUpdate:
		// The update's own clientContext, or the attempt's when it was
		// matched by operation id.
		r.Status, r.ClientContext = string(e.Status), e.Operation.ClientContext
		if r.ClientContext == "" {
			r.ClientContext = e.ClientContext
		}
		describeOperation(&r, e.Operation, nil)
	case EventAttempt:
		h := e.HTTP
		r.Status, r.ClientContext = string(e.Status), e.ClientContext
		r.HTTPAttempt, r.HTTPMethod, r.HTTPStatus = h.Number, h.Method, h.StatusCode
		r.ClientRequestID, r.RequestID, r.ErrorCode, r.InnerErrorCodes = h.ClientRequestID, h.RequestID, h.Code, h.InnerCodes
		if h.RetryAfter > 0 {
			r.RetryAfter = h.RetryAfter.String()
		}
		if h.Err != nil {
			r.Error = h.Err.Error()
		}
		return r
	case EventGate:
		open := e.Open
		r.GateOpen, r.Epoch = &open, e.Epoch
	}
	if e.Err != nil {
		r.Error = e.Err.Error()
	}
	return r
}

// describeOperation fills what an operation, or the error that came
// instead of one, says. An HTTP error has no operation: its status and
// Graph's code are recorded, and no operation status.
func describeOperation(r *AuditRecord, op graph.Operation, err error) {
	var ge *graph.Error
	var oe *graph.OperationError
	switch {
	case errors.As(err, &ge):
		r.HTTPStatus, r.ErrorCode, r.InnerErrorCodes = ge.StatusCode, ge.Code, ge.InnerCodes
		r.RequestID, r.ClientRequestID = ge.RequestID, ge.ClientRequestID
		if ge.RetryAfter > 0 {
			r.RetryAfter = ge.RetryAfter.String()
		}
		return
	case errors.As(err, &oe) && op.ID == "" && op.Status == "":
		op = oe.Operation // graph.Client returns a failed operation as its error
	case err != nil && op.ID == "" && op.Status == "" && op.RequestID == "":
		return // no operation came back: nothing to say it was "missing"
	}
	r.OperationID, r.OperationStatus = op.ID, op.Status.String()
	if op.RequestID != "" {
		r.RequestID = op.RequestID
	}
	if op.ClientRequestID != "" {
		r.ClientRequestID = op.ClientRequestID
	}
	if op.ResultInfo != nil {
		r.ResultInfo = op.ResultInfo.String()
	}
	if r.ClientContext == "" {
		r.ClientContext = op.ClientContext
	}
}

// auditKinds are the kinds a trail may hold.
var auditKinds = map[EventKind]bool{EventTransition: true, EventRequest: true, EventReply: true, EventGate: true,
	EventLeasesDrained: true, EventHookRan: true, EventUpdate: true, EventAttempt: true, EventAuthorized: true}
