package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/recgate/recgate/fsm"
)

// journalResult is what the run's journal held, and what a Recover over
// it (what a restarted bot runs first) found and cost.
type journalResult struct {
	trails int   // trail files, one per machine (the warm-up call's too)
	clean  int   // trails Recover found clean: nothing to put right
	bytes  int64 // their size on disk
	scan   time.Duration
	// archived trails moved by ArchiveEnded into the journal's ended/
	// directory after the recovery, in archiveTook; left is what a
	// Recover then still reads, in rescan.
	archived, left      int
	archiveTook, rescan time.Duration
	err                 error // Recover's, ArchiveEnded's, or reading the trails'
}

// recoverJournal closes the trails and runs Journal.Recover over them, as
// a bot restarted after this run would: the run's Journal is closed (its
// lock released, as the process's exit would) and the journal opened
// again. Every call ended, so every trail must be clean: one that is not
// is a violation (the journal was behind the truth, or a machine did not
// end).
func (res *result) recoverJournal(ctx context.Context, r *rig) {
	j := &res.journal
	if err := r.closeTrails(); err != nil {
		j.err = fmt.Errorf("closing the trails: %w", err)
		return
	}
	if err := r.journal.Close(); err != nil {
		j.err = err
		return
	}
	restarted, err := fsm.OpenJournal(r.journal.Dir())
	if err != nil {
		j.err = err
		return
	}
	defer restarted.Close()
	paths, err := restarted.Trails()
	if err != nil {
		j.err = err
		return
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			j.err = err
			return
		}
		j.bytes += fi.Size()
	}
	began := time.Now()
	rep, err := restarted.Recover(ctx, r.client, nil) // the fleet's sinks are in memory: nothing to seal
	j.scan = time.Since(began)
	j.trails, j.clean, j.err = len(rep.Calls), rep.Count(fsm.RecoveryClean), err
	for _, c := range rep.Calls {
		if c.Outcome == fsm.RecoveryClean {
			continue
		}
		v := &res.violations
		v.uncleanTrails++
		if len(v.examples) < 10 {
			v.examples = append(v.examples, fmt.Sprintf("journal trail %s (call %s): recovery found it %s in state %s: %v", c.Trail, c.CallID, c.Outcome, c.State, c.Err))
		}
	}
	if j.err != nil {
		return
	}
	// What a long-running bot does now and then: the ended calls' trails
	// leave the journal, so the next start-up reads only calls in flight.
	began = time.Now()
	arch, err := restarted.ArchiveEnded(filepath.Join(restarted.Dir(), "ended"))
	j.archiveTook, j.archived, j.err = time.Since(began), len(arch.Moved), err
	began = time.Now()
	again, err := restarted.Recover(ctx, r.client, nil)
	j.rescan, j.left = time.Since(began), len(again.Calls)
	if j.err == nil {
		j.err = err
	}
}

func (j journalResult) print(w io.Writer, o options) {
	if o.journal == "" {
		return
	}
	if j.err != nil {
		fmt.Fprintf(w, "journal: %s: %v\n", o.journal, j.err)
		return
	}
	per := time.Duration(0)
	if j.trails > 0 {
		per = j.scan / time.Duration(j.trails)
	}
	fmt.Fprintf(w, "journal: %d trails in %s (%d KiB, %d B per trail), synced before each gate opening and each report;\n",
		j.trails, o.journal, j.bytes>>10, j.bytes/int64(max(j.trails, 1)))
	fmt.Fprintf(w, "  Journal.Recover over them afterwards (a restart's first step) found %d clean, %d to put right, in %s (%s per trail);\n",
		j.clean, j.trails-j.clean, j.scan.Round(time.Millisecond), per.Round(time.Microsecond))
	fmt.Fprintf(w, "  Journal.ArchiveEnded then moved %d ended calls' trails to %s in %s; a Recover after it reads %d trails, in %s\n",
		j.archived, filepath.Join(o.journal, "ended"), j.archiveTook.Round(time.Millisecond), j.left, j.rescan.Round(time.Microsecond))
}
