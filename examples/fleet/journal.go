package main

import (
	"context"
	"fmt"
	"io"
	"os"
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
	err    error // Recover's, or reading the trails'
}

// recoverJournal closes the trails and runs Journal.Recover over them, as
// a bot restarted after this run would. Every call ended, so every trail
// must be clean: one that is not is a violation (the journal was behind
// the truth, or a machine did not end). A hook call is a violation too:
// Recover runs it only for an interrupted call.
func (res *result) recoverJournal(ctx context.Context, r *rig) {
	j := &res.journal
	if err := r.closeTrails(); err != nil {
		j.err = fmt.Errorf("closing the trails: %w", err)
		return
	}
	paths, err := r.journal.Trails()
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
	hooked := 0
	began := time.Now()
	rep, err := r.journal.Recover(ctx, r.client, func(context.Context, fsm.InterruptedCall) error {
		hooked++
		return nil
	})
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
	if hooked > 0 && res.violations.uncleanTrails == 0 {
		res.violations.uncleanTrails += hooked // cannot happen: the hook runs only for unclean trails
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
	fmt.Fprintf(w, "  Journal.Recover over them afterwards (a restart's first step) found %d clean, %d to put right, in %s (%s per trail)\n",
		j.clean, j.trails-j.clean, j.scan.Round(time.Millisecond), per.Round(time.Microsecond))
}
