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
// One process owns a journal at a time. OpenJournal takes an exclusive
// lock on the directory (a lock file, .lock, that holds the owner's pid),
// and a second OpenJournal on it, from another process or this one, fails
// with ErrJournalInUse until the owner calls Close or exits. The operating
// system drops the lock when the process dies, however it dies (SIGKILL
// included), so a restarted bot opens the journal of its dead predecessor,
// and never the one of a live process: recovery must only ever put right
// the trails of a process that is gone, or it would report failed for
// live recordings, seal media files still being written and archive live
// trails. A rolling deploy must therefore not overlap two bots on one
// journal: stop the old process before the new one opens the journal (or
// open it with OpenJournalWait, which waits for the old one to exit), or
// give each process its own directory (a process recovers only its own
// directory, so a directory whose process is gone for good needs a
// process, or a one-off run, to open and recover it). The lock excludes
// processes of one host; on a network file system shared by several hosts
// it may not, so give each host its own journal there.
//
// Create one trail per machine with Create and pass it to WithAuditTrail;
// at start-up, before any new Start, call Recover (when it fails, see
// Recover for what the bot may do; Recover never touches the trails this
// Journal created, so retrying it while the bot serves calls is safe).
// Now and then, move the
// trails of ended calls out with ArchiveEnded, so the journal holds only
// the calls in flight. Close the journal when the process is done with it:
// after every machine with a trail in it is done (a live machine's trail
// in a journal nobody holds could be recovered by another process). A
// Journal is safe for concurrent use.
type Journal struct {
	dir  string
	lock *journalLock

	// opsMu guards closed, active and releaseErr. Every operation counts
	// itself in active; Close marks the journal closed (so an operation
	// begun after it, a recovery hook's call on the journal included,
	// fails at once) and releases the lock if nothing runs, or leaves the
	// release to the last operation to end: Close never waits, so a hook
	// that calls it cannot deadlock.
	opsMu      sync.Mutex
	closed     bool
	active     int
	releaseErr error

	mu sync.Mutex // serialises Create's names; guards created
	n  uint64
	// created holds the base names of the trails this Journal created:
	// its own process's machines, which Recover leaves to them.
	created map[string]struct{}
}

// journalExt is the extension of a journal's trail files.
const journalExt = ".jsonl"

// OpenJournal opens (creating it if needed) the journal in dir and takes
// its lock: an exclusive, non-blocking lock on dir/.lock, which holds this
// process's pid (and, on Linux, macOS and the BSDs, on dir itself, so
// that deleting .lock does not free the journal), released by Close or
// when the process exits, and not before: a Journal the bot no longer
// refers to keeps its lock. When
// another Journal holds the lock (another process, or an earlier
// OpenJournal in this process that was not closed), it fails at once with
// an error that wraps ErrJournalInUse and names the holder's pid: stop
// that process first, or wait for it to exit (OpenJournalWait). Two
// processes must never share a journal, not even for the overlap of a
// rolling deploy. On platforms where recgate cannot lock a file (other
// than Linux, macOS, the BSDs and Windows) it returns an error rather
// than a journal without its lock.
func OpenJournal(dir string) (*Journal, error) {
	if dir == "" {
		return nil, errors.New("fsm: OpenJournal(\"\"): pass the directory the journal lives in")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fsm: creating the journal directory: %w", err)
	}
	l, err := acquireJournalLock(dir)
	if err != nil {
		return nil, err
	}
	return &Journal{dir: dir, lock: l, created: make(map[string]struct{})}, nil
}

// Close releases the journal's lock; then another process (or a new
// OpenJournal in this one) may open the journal. Afterwards Create,
// Trails, Recover and ArchiveEnded return an error wrapping
// ErrJournalClosed (also one a recovery hook makes while Close runs). If a
// Recover or ArchiveEnded is in progress, Close returns at once and the
// lock is released when the last of them returns (OpenJournalWait, in this
// process or another, waits for that); so Close never waits, even when a
// RecoveryHook calls it. Close it only once every machine with a trail in
// it is done: the trail files Create returned are the caller's and stay
// open. Close is idempotent: a later call returns the error of releasing
// the lock, if it failed, and nil otherwise.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	j.opsMu.Lock()
	defer j.opsMu.Unlock()
	if !j.closed {
		j.closed = true
		if j.active == 0 {
			j.releaseLocked()
		}
	}
	return j.releaseErr
}

// releaseLocked drops the OS lock. Called with opsMu held, once: by Close
// when nothing runs, or by the last operation to end after Close.
func (j *Journal) releaseLocked() {
	if j.lock == nil {
		return
	}
	if err := j.lock.release(); err != nil {
		j.releaseErr = fmt.Errorf("fsm: Journal.Close(%s): releasing the lock: %w", j.dir, err)
	}
}

// use marks the start of an operation named op: it fails on a nil or
// closed journal; otherwise the caller runs done when the operation ends.
func (j *Journal) use(op string) (done func(), err error) {
	if j == nil || j.lock == nil {
		return nil, fmt.Errorf("fsm: Journal.%s on a Journal that OpenJournal did not return: open it with OpenJournal", op)
	}
	j.opsMu.Lock()
	defer j.opsMu.Unlock()
	if j.closed {
		return nil, fmt.Errorf("%w: Journal.%s on the journal in %s after its Close (its lock is released, so another process may own it now); open it again with OpenJournal", ErrJournalClosed, op, j.dir)
	}
	j.active++
	return func() {
		j.opsMu.Lock()
		defer j.opsMu.Unlock()
		j.active--
		if j.active == 0 && j.closed {
			j.releaseLocked() // Close came while this ran
		}
	}, nil
}

// owns reports whether this Journal created the trail at path.
func (j *Journal) owns(path string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	_, ok := j.created[filepath.Base(path)]
	return ok
}

// forget drops moved trails from the set of this Journal's own.
func (j *Journal) forget(paths []string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range paths {
		delete(j.created, filepath.Base(p))
	}
}

// Dir is the journal's directory (also after Close).
func (j *Journal) Dir() string {
	if j == nil {
		return ""
	}
	return j.dir
}

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
	done, err := j.use("Create")
	if err != nil {
		return nil, err
	}
	defer done()
	if err := graph.ValidateCallID(callID); err != nil {
		return nil, fmt.Errorf("fsm: Journal.Create: %w", err)
	}
	j.mu.Lock()
	j.n++
	name := fmt.Sprintf("%s-%04d-%s%s", time.Now().UTC().Format("20060102T150405.000000000"), j.n, fileSafe(callID), journalExt)
	j.created[name] = struct{}{}
	j.mu.Unlock()
	f, err := os.OpenFile(filepath.Join(j.dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		j.mu.Lock()
		delete(j.created, name) // not ours: it may be another's trail (EEXIST)
		j.mu.Unlock()
		return nil, fmt.Errorf("fsm: creating a journal trail: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Trails lists the journal's trail files (*.jsonl), oldest first.
func (j *Journal) Trails() ([]string, error) {
	done, err := j.use("Trails")
	if err != nil {
		return nil, err
	}
	defer done()
	return j.trails()
}

func (j *Journal) trails() ([]string, error) {
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
