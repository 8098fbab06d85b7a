package fsm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/recgate/recgate/graph"
)

// Journal is a directory of audit trails, one file per call (per machine),
// that a bot keeps so that it can put right, after a crash, what its dead
// process left behind. The audit trail is the journal: its records that
// matter for recovery (the Graph requests, their replies, the gate
// opening and closing, the end of the call) are written and synced before
// the machine acts on them (see WithAuditTrail), so a trail on disk is
// never behind the truth that matters: a recording request is in the
// trail before it is sent, and the gate is never open without a synced
// record saying so.
//
// Create one trail per machine with Create and pass it to WithAuditTrail;
// at start-up, before any new Start, call Recover. Now and then, move the
// trails of ended calls out with ArchiveEnded, so the journal holds only
// the calls in flight.
type Journal struct {
	dir string
	mu  sync.Mutex // serialises Create's names
	n   uint64
}

// journalExt is the extension of a journal's trail files.
const journalExt = ".jsonl"

// OpenJournal opens (creating it if needed) the journal in dir.
func OpenJournal(dir string) (*Journal, error) {
	if dir == "" {
		return nil, errors.New("fsm: OpenJournal(\"\"): pass the directory the journal lives in")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsm: creating the journal directory: %w", err)
	}
	return &Journal{dir: dir}, nil
}

// Dir is the journal's directory.
func (j *Journal) Dir() string { return j.dir }

// Create makes a new, empty trail file for callID and syncs the directory,
// so that the file itself survives a crash. Pass the file to
// WithAuditTrail (it syncs the records that matter) and close it once the
// machine's Done channel is closed (its last record is written then). Its
// name starts with the time and holds the call ID, so a bot can name the
// media files of this machine after it (see InterruptedCall.Trail).
//
// Create syncs the journal's directory, a disk round trip: with a
// Registry, whose factory runs under the registry's lock, create the trail
// before Registry.Create (and hand it to the factory) rather than inside
// the factory, so other calls' lookups do not wait for the disk.
func (j *Journal) Create(callID string) (*os.File, error) {
	if err := graph.ValidateCallID(callID); err != nil {
		return nil, fmt.Errorf("fsm: Journal.Create: %w", err)
	}
	j.mu.Lock()
	j.n++
	name := fmt.Sprintf("%s-%04d-%s%s", time.Now().UTC().Format("20060102T150405.000000000"), j.n, fileSafe(callID), journalExt)
	j.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(j.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("fsm: creating a journal trail: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Trails lists the journal's trail files, oldest first.
func (j *Journal) Trails() ([]string, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("fsm: reading the journal directory: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), journalExt) {
			out = append(out, filepath.Join(j.dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// fileSafe turns a call ID into a file-name fragment: letters, digits and
// '-' kept, anything else hex-escaped.
func fileSafe(id string) string {
	var b strings.Builder
	for _, c := range []byte(id) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsm: opening the journal directory to sync it: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsm: syncing the journal directory: %w", err)
	}
	return nil
}

// trailAppender appends records to an existing trail, continuing its hash
// chain, its sequence numbers and its clock.
type trailAppender struct {
	f      *os.File
	callID string
	seq    uint64
	prev   string
	last   time.Time
}

// add writes r as the next record and syncs it.
func (a *trailAppender) add(r AuditRecord) error {
	now := time.Now().UTC()
	if now.Before(a.last) {
		now = a.last
	}
	r.Seq, r.Time, r.CallID, r.Prev = a.seq+1, now, a.callID, a.prev
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("fsm: encoding a recovery record: %w", err)
	}
	if _, err := a.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("fsm: appending recovery record %d (%s) to %s: %w", r.Seq, r.Kind, a.f.Name(), err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("fsm: syncing recovery record %d (%s) of %s: %w", r.Seq, r.Kind, a.f.Name(), err)
	}
	sum := sha256.Sum256(line)
	a.seq, a.last, a.prev = r.Seq, now, hex.EncodeToString(sum[:])
	return nil
}
