package fsm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	// ErrJournalInUse is returned (wrapped, with the holder's pid when the
	// lock file names it) by OpenJournal when another Journal holds the
	// directory: another process, or this one, opened it and has not closed
	// it. Recovering a journal that a live process still writes would
	// report failed for its live recordings, seal media files it still
	// appends to and archive its trails: stop the other process first, or
	// wait for it to exit (the lock frees when it does, however it dies;
	// see OpenJournalWait). A rolling deploy must not run two bots on one
	// journal: give each process its own directory, or let the new process
	// wait for the old one's exit.
	ErrJournalInUse = errors.New("fsm: the journal is in use by a live process")
	// ErrJournalClosed is returned (wrapped, naming the directory) by a
	// Journal's methods after Close: its lock is released, so another
	// process may own the directory now. Open it again with OpenJournal.
	ErrJournalClosed = errors.New("fsm: the journal is closed")
)

// lockName is the lock file inside a journal's directory. It is not a
// trail (Trails lists *.jsonl only).
const lockName = ".lock"

// journalLock is an exclusive lock on a journal directory, held through an
// open lock file; the operating system drops it when the process dies.
type journalLock struct {
	f   *os.File
	dir *os.File // the directory, locked too where the platform can (nil otherwise)
}

// heldLocks keeps every lock this process holds reachable until it is
// released. The garbage collector closes an *os.File nobody refers to, and
// closing it drops the flock: a bot that opened its journal, created its
// trails and kept no pointer to the Journal would lose the lock while its
// machines record, and a second process could recover its live calls.
var heldLocks sync.Map // *journalLock -> struct{}

// acquireJournalLock takes the lock on dir without waiting. When another
// holds it, the error wraps ErrJournalInUse and names the holder's pid if
// the lock file says it.
func acquireJournalLock(dir string) (*journalLock, error) {
	path := filepath.Join(dir, lockName)
	d, busy, err := lockDirectory(dir)
	if busy {
		return nil, inUseError(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: OpenJournal(%q): taking the lock on the journal's directory: %w", dir, err)
	}
	f, busy, err := lockFile(path)
	if busy || err != nil {
		if d != nil {
			d.Close()
		}
	}
	if busy {
		return nil, inUseError(dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("fsm: OpenJournal(%q): taking the journal's lock %s: %w", dir, path, err)
	}
	// The holder's pid, for the error a second opener gets. Only the
	// holder writes the file, and only while it holds the lock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	l := &journalLock{f: f, dir: d}
	heldLocks.Store(l, struct{}{})
	return l, nil
}

// release drops the lock. The file stays (removing it would let a process
// that opened the old file and one that creates a new one both hold "the"
// lock); it is emptied, so it names no process.
func (l *journalLock) release() error {
	defer heldLocks.Delete(l)
	_ = l.f.Truncate(0)
	err := l.f.Close() // closing the last descriptor drops the lock
	if l.dir != nil {
		err = errors.Join(err, l.dir.Close())
	}
	return err
}

func inUseError(dir, path string) error {
	holder := "another Journal (in this process or another one)"
	if data, err := os.ReadFile(path); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && pid > 0 {
			if pid == os.Getpid() {
				holder = fmt.Sprintf("this process (pid %d): another Journal on it is still open", pid)
			} else {
				holder = fmt.Sprintf("process %d", pid)
			}
		}
	}
	return fmt.Errorf("%w: OpenJournal(%q): %s holds its lock %s. Recovering a journal a live process still writes would report its live recordings failed; "+
		"stop that process first, or wait until it exits (the lock frees when it does, even by SIGKILL: OpenJournalWait waits for that). "+
		"A rolling deploy must not overlap two bots on one journal: give each process its own directory; in one process, Close the Journal before opening it again",
		ErrJournalInUse, dir, holder, path)
}

// OpenJournalWait is OpenJournal that, while another holds the journal,
// waits for it to be released (its process exits, or its Journal is
// closed) instead of failing: for a bot restarted right after its
// predecessor was killed, or a deploy that starts the new process before
// the old one is gone. It tries again every poll (at most 100 ms) until
// ctx is done; then the error wraps both ErrJournalInUse and ctx's error.
// Any error other than ErrJournalInUse returns at once.
func OpenJournalWait(ctx context.Context, dir string) (*Journal, error) {
	if ctx == nil {
		return nil, fmt.Errorf("fsm: OpenJournalWait(nil, %q): pass a context that bounds the wait (context.Background() waits for ever)", dir)
	}
	const poll = 100 * time.Millisecond
	wait := 5 * time.Millisecond
	for {
		j, err := OpenJournal(dir)
		if !errors.Is(err, ErrJournalInUse) {
			return j, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("fsm: OpenJournalWait gave up waiting (%w): %w", context.Cause(ctx), err)
		case <-t.C:
		}
		wait = min(2*wait, poll)
	}
}
