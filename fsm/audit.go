package fsm

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/recgate/recgate/graph"
)

// AuditRecord is one line of the audit trail: one event of the machine,
// with the identifiers a reviewer or Microsoft support needs, chained to
// the line before it by that line's SHA-256.
type AuditRecord struct {
	Seq             uint64    `json:"seq"`
	Time            time.Time `json:"time"`
	CallID          string    `json:"callId"`
	Kind            EventKind `json:"kind"`
	Trigger         string    `json:"trigger,omitempty"`
	From            string    `json:"from,omitempty"`
	To              string    `json:"to,omitempty"`
	Attempt         uint64    `json:"attempt,omitempty"`
	Status          string    `json:"status,omitempty"`
	ClientContext   string    `json:"clientContext,omitempty"`
	ClientRequestID string    `json:"clientRequestId,omitempty"`
	RequestID       string    `json:"requestId,omitempty"`
	OperationID     string    `json:"operationId,omitempty"`
	OperationStatus string    `json:"operationStatus,omitempty"`
	GateOpen        *bool     `json:"gateOpen,omitempty"`
	Epoch           uint64    `json:"epoch,omitempty"`
	// Via says how an outcome arrived (reply, notification, poll, caller);
	// Issuer and Tenant, who vouched for a notification (its validated
	// token's iss and tid).
	Via    string `json:"via,omitempty"`
	Issuer string `json:"issuer,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	Error  string `json:"error,omitempty"`
	// Prev is the hex SHA-256 of the previous line (without its newline);
	// the first line's Prev is the hash of the call ID.
	Prev string `json:"prev"`
}

// auditTrail writes the records; it is an observer.
type auditTrail struct {
	mu      sync.Mutex
	w       io.Writer
	callID  string
	seq     uint64
	prev    string
	attempt uint64
	err     error
}

// WithAuditTrail writes one JSON line per event to w: transitions, Graph
// requests and replies, later operation updates (and how each came: a
// notification with the issuer and tenant that vouched for it, a poll, or
// the bot), the gate opening and closing, the leases drained, the hook run.
// Every line names the trigger that caused it. Each line carries the time,
// the call ID, the attempt number, the clientContext, the
// client-request-id, request-id and operation id where there are any, and
// the SHA-256 of the line before it,
// so VerifyAuditTrail can tell whether anything was removed, changed or
// reordered. No token ever reaches the machine, so none can reach the
// trail. A write error is kept and reported by AuditErr; the machine goes
// on.
func WithAuditTrail(w io.Writer) Option {
	return func(c *config) error {
		if w == nil {
			return errors.New("fsm: WithAuditTrail(nil): pass a writer, or leave the option out")
		}
		c.audit = &auditTrail{w: w}
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

func genesis(callID string) string {
	sum := sha256.Sum256([]byte("recgate audit trail for call " + callID))
	return hex.EncodeToString(sum[:])
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
	a.seq++
	r := AuditRecord{Seq: a.seq, Time: e.Time.UTC(), CallID: e.CallID, Kind: e.Kind, Attempt: a.attempt, Prev: a.prev,
		Trigger: e.Trigger.String(), Via: string(e.Via), Issuer: e.Issuer, Tenant: e.Tenant}
	switch e.Kind {
	case EventTransition:
		r.From, r.To = e.From.String(), e.To.String()
	case EventRequest, EventReply:
		r.Status, r.ClientContext = string(e.Status), e.ClientContext
		r.OperationID, r.RequestID, r.ClientRequestID = e.Operation.ID, e.Operation.RequestID, e.Operation.ClientRequestID
		if e.Kind == EventReply {
			r.OperationStatus = e.Operation.Status.String()
		}
		var ge *graph.Error
		if errors.As(e.Err, &ge) {
			r.RequestID, r.ClientRequestID = ge.RequestID, ge.ClientRequestID
		}
	case EventUpdate:
		// The update's own clientContext, or the attempt's when it was
		// matched by operation id.
		r.Status, r.ClientContext = string(e.Status), e.Operation.ClientContext
		if r.ClientContext == "" {
			r.ClientContext = e.ClientContext
		}
		r.OperationID, r.OperationStatus = e.Operation.ID, e.Operation.Status.String()
	case EventGate:
		open := e.Open
		r.GateOpen, r.Epoch = &open, e.Epoch
	}
	if e.Err != nil {
		r.Error = e.Err.Error()
	}
	line, err := json.Marshal(r)
	if err != nil {
		a.err = err
		return
	}
	if _, err := a.w.Write(append(line, '\n')); err != nil {
		a.err = fmt.Errorf("fsm: writing the audit trail: %w", err)
		return
	}
	sum := sha256.Sum256(line)
	a.prev = hex.EncodeToString(sum[:])
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

// VerifyAuditTrailHead is VerifyAuditTrail that also checks the last
// line's hash against head (from Machine.AuditHead).
func VerifyAuditTrailHead(r io.Reader, head string) ([]AuditRecord, error) {
	recs, last, err := verifyAudit(r)
	if err != nil {
		return recs, err
	}
	if last != head {
		return recs, fmt.Errorf("%w: the trail ends at a line whose hash is not the head you kept: lines were cut or the last one changed", ErrAuditTampered)
	}
	return recs, nil
}

// ErrAuditTampered matches every error VerifyAuditTrail returns about the
// trail's content.
var ErrAuditTampered = errors.New("fsm: audit trail does not verify")

// VerifyAuditTrail reads an audit trail and checks that every line is
// well-formed, that sequence numbers run 1, 2, 3... without gaps, that
// times never go backwards, that every line names the same call, and that
// each line's prev is the SHA-256 of the line before it (the first line's,
// the hash of the call ID). It returns the records, or an error naming the
// first line that fails (errors.Is(err, ErrAuditTampered)). A chain cannot
// vouch for its own end: a trail cut short, or with its last line changed,
// still chains. Keep Machine.AuditHead elsewhere and use
// VerifyAuditTrailHead to catch that too.
func VerifyAuditTrail(r io.Reader) ([]AuditRecord, error) {
	recs, _, err := verifyAudit(r)
	return recs, err
}

// verifyAudit also returns the hash of the last line.
func verifyAudit(r io.Reader) ([]AuditRecord, string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []AuditRecord
	var prev string
	var last time.Time
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		var rec AuditRecord
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return out, "", fmt.Errorf("%w: line %d is not an audit record: %v", ErrAuditTampered, n, err)
		}
		if n == 1 {
			prev = genesis(rec.CallID)
		} else if rec.CallID != out[0].CallID {
			return out, "", fmt.Errorf("%w: line %d is for call %q, the trail for %q", ErrAuditTampered, n, rec.CallID, out[0].CallID)
		}
		if rec.Seq != uint64(n) {
			return out, "", fmt.Errorf("%w: line %d has sequence number %d: a line was removed, added or moved", ErrAuditTampered, n, rec.Seq)
		}
		if rec.Prev != prev {
			return out, "", fmt.Errorf("%w: line %d does not chain to the line before it: that line was changed, removed or moved", ErrAuditTampered, n)
		}
		if rec.Time.Before(last) {
			return out, "", fmt.Errorf("%w: line %d goes back in time", ErrAuditTampered, n)
		}
		last = rec.Time
		sum := sha256.Sum256(line)
		prev = hex.EncodeToString(sum[:])
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return out, "", fmt.Errorf("fsm: reading the audit trail: %w", err)
	}
	return out, prev, nil
}
