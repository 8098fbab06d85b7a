package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A bot keeps one journal trail per machine. When its process dies while
// recording, the next process recovers at start-up, before any new Start:
// the bot's hook seals the files, and Graph is told failed.
func ExampleJournal_Recover() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	graphSays := fsm.UpdaterFunc(func(_ context.Context, _ string, s graph.Status, cc string) (graph.Operation, error) {
		fmt.Println("graph got:", s)
		return graph.Operation{ID: "op", ClientContext: cc, Status: graph.OperationCompleted}, nil
	})

	// The first process: recording, then it dies (the machine is dropped
	// with its gate open).
	j, _ := fsm.OpenJournal(dir)
	trail, _ := j.Create("0a1b2c3d-0000-4000-8000-000000000001")
	m, _ := fsm.New("0a1b2c3d-0000-4000-8000-000000000001", graphSays, fsm.WithAuditTrail(trail))
	_, _ = m.Start(context.Background())
	trail.Close()
	j.Close() // a process that dies releases the journal's lock, however it dies

	// The next process, at start-up. (While the first one lives, this
	// OpenJournal fails with ErrJournalInUse.)
	j, _ = fsm.OpenJournal(dir)
	defer j.Close()
	seal := func(_ context.Context, c fsm.InterruptedCall) error {
		fmt.Printf("hook: seal the files of %s (it was %s, gate open: %v)\n", c.CallID, c.State, c.GateOpen)
		return nil
	}
	rep, err := j.Recover(context.Background(), graphSays, seal)
	fmt.Println(rep.Calls[0].Outcome, err)
	rep, err = j.Recover(context.Background(), graphSays, seal)
	fmt.Println(rep.Calls[0].Outcome, err)
	// Output:
	// graph got: recording
	// hook: seal the files of 0a1b2c3d-0000-4000-8000-000000000001 (it was Recording, gate open: true)
	// graph got: failed
	// reported-failed <nil>
	// clean <nil>
}

// A bot that runs for months moves the trails of ended calls out of its
// journal now and then (here, after one call), so the journal, and the
// Recover each start-up runs over it, holds only the calls in flight. The
// trails are evidence: they are moved, never deleted.
func ExampleJournal_ArchiveEnded() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	graphSays := fsm.UpdaterFunc(func(_ context.Context, _ string, s graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ID: "op", ClientContext: cc, Status: graph.OperationCompleted}, nil
	})
	j, _ := fsm.OpenJournal(filepath.Join(dir, "journal"))
	defer j.Close()

	done, _ := j.Create("0a1b2c3d-0000-4000-8000-000000000001")
	m, _ := fsm.New("0a1b2c3d-0000-4000-8000-000000000001", graphSays, fsm.WithAuditTrail(done))
	_, _ = m.Start(context.Background())
	_ = m.Stop(context.Background())
	_ = m.CallEnded(context.Background()) // Graph said the call ended
	done.Close()

	live, _ := j.Create("0a1b2c3d-0000-4000-8000-000000000002")
	defer live.Close()
	m2, _ := fsm.New("0a1b2c3d-0000-4000-8000-000000000002", graphSays, fsm.WithAuditTrail(live))
	_, _ = m2.Start(context.Background()) // still recording

	rep, err := j.ArchiveEnded(filepath.Join(dir, "ended"))
	fmt.Println(len(rep.Moved), "moved,", rep.Kept, "kept,", err)
	left, _ := j.Trails()
	fmt.Println(len(left), "trail in the journal")
	// Output:
	// 1 moved, 1 kept, <nil>
	// 1 trail in the journal
}

// One process owns a journal at a time: while it is open, a second
// OpenJournal on the directory (a second bot of a rolling deploy, or this
// process again) fails with ErrJournalInUse, and recovers nothing. Close,
// or the owner's exit however it dies, frees it.
func ExampleOpenJournal() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)

	j, err := fsm.OpenJournal(dir)
	fmt.Println("first open:", err)
	_, err = fsm.OpenJournal(dir)
	fmt.Println("second open, in use:", errors.Is(err, fsm.ErrJournalInUse))

	_ = j.Close()
	_, err = j.Create("0a1b2c3d-0000-4000-8000-000000000001")
	fmt.Println("closed:", errors.Is(err, fsm.ErrJournalClosed))
	again, err := fsm.OpenJournal(dir)
	fmt.Println("after Close:", err)
	_ = again.Close()
	// Output:
	// first open: <nil>
	// second open, in use: true
	// closed: true
	// after Close: <nil>
}
