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
	"time"
)

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
		if !auditKinds[rec.Kind] {
			return out, "", fmt.Errorf("%w: line %d has kind %q, which no machine writes", ErrAuditTampered, n, rec.Kind)
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
