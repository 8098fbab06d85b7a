package fsm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ArchiveReport is what Journal.ArchiveEnded did.
type ArchiveReport struct {
	// Moved are the trails moved, by their new paths.
	Moved []string
	// Kept counts the trails left in the journal: calls not ended (a live
	// machine may record again and append), empty trails, and trails that
	// need Recover (a torn last line, an interrupted recording) or do not
	// verify.
	Kept int
}

// ArchiveEnded moves into dir every trail the journal will never need
// again, so that the journal, and the Recover a restart runs over all of
// it, stays as small as the calls in flight. A bot running for months
// otherwise keeps one trail per call it ever had, and every start-up
// reads and verifies each of them.
//
// A trail is moved only when its call is over for good: the trail records
// the machine reaching Ended, or a recovery that closed it (Graph accepted
// its failed report, or the call was gone). Nothing else is moved: not a
// trail whose last state is NotRecording or Failed (its machine may still
// be alive and record again), not an empty one (its machine may not have
// sent anything yet), not one Recover still has to put right, and not one
// that does not verify. A machine that appends to a trail after it was
// moved (a late reply after the call ended) writes to the moved file: its
// open file follows the move.
//
// The trails are audit evidence, so they are moved, never deleted: dir is
// where the bot keeps them (it is created if needed) and must be on the
// same file system as the journal, and a file already in dir is never
// replaced. Both directories are synced before it returns. It is safe to
// run while machines record (say, every hour). The journal's lock file is
// not a trail, and stays. The error joins what went
// wrong with single trails; the others were still moved.
func (j *Journal) ArchiveEnded(dir string) (ArchiveReport, error) {
	var rep ArchiveReport
	done, err := j.use("ArchiveEnded")
	if err != nil {
		return rep, err
	}
	defer done()
	if dir == "" {
		return rep, errors.New("fsm: Journal.ArchiveEnded(\"\"): pass the directory the ended trails go to")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return rep, fmt.Errorf("fsm: Journal.ArchiveEnded: creating %s: %w", dir, err)
	}
	if same, err := sameDir(dir, j.dir); err != nil || same {
		if err == nil {
			err = fmt.Errorf("it is the journal's own directory; pass another one")
		}
		return rep, fmt.Errorf("fsm: Journal.ArchiveEnded(%q): %w", dir, err)
	}
	trails, err := j.trails()
	if err != nil {
		return rep, err
	}
	var errs []error
	for _, path := range trails {
		over, err := trailOver(path)
		if err != nil || !over {
			rep.Kept++
			continue // Recover says what is wrong with a trail that does not verify
		}
		to := filepath.Join(dir, filepath.Base(path))
		if err := moveNoReplace(path, to); err != nil {
			rep.Kept++
			errs = append(errs, err)
			continue
		}
		rep.Moved = append(rep.Moved, to)
	}
	j.forget(rep.Moved)
	if len(rep.Moved) > 0 {
		for _, d := range []string{dir, j.dir} {
			if err := syncDir(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return rep, errors.Join(errs...)
}

// trailOver reports whether the trail at path verifies and shows its call
// over for good: Ended, or closed by a recovery.
func trailOver(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return false, err
	}
	if n := len(data); n == 0 || data[n-1] != '\n' {
		return false, nil // empty, or torn: Recover's to put right
	}
	recs, _, err := verifyAudit(bytes.NewReader(data))
	if err != nil || len(recs) == 0 {
		return false, err
	}
	st := readTrail(recs)
	if st.needsRecovery() {
		return false, nil
	}
	if st.ended {
		return true, nil
	}
	// A recovery's records close the trail of a process that is gone: no
	// machine of a live process writes them.
	last := recs[len(recs)-1]
	return last.Trigger == RecoverTrigger && last.Kind == EventTransition && last.To == Failed.String(), nil
}

// moveNoReplace moves a file to a new name on the same file system without
// ever replacing a file already there: a hard link (which fails if to
// exists), then the old name removed. A crash between the two leaves both
// names of the one file; the next run finds the same file at to and just
// removes the old name.
func moveNoReplace(from, to string) error {
	err := os.Link(from, to)
	if errors.Is(err, os.ErrExist) {
		a, errA := os.Stat(from)
		b, errB := os.Stat(to)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			return fmt.Errorf("fsm: archiving %s: %s already holds another file; it is left in place", from, to)
		}
		err = nil
	}
	if err != nil {
		return fmt.Errorf("fsm: archiving %s (the archive must be on the journal's file system): %w", from, err)
	}
	if err := os.Remove(from); err != nil {
		return fmt.Errorf("fsm: archiving %s: linked into the archive, but removing it from the journal: %w", from, err)
	}
	return nil
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}
