package fsm_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/recgate/recgate/fsm"
)

// openAndDrop opens a journal and keeps no pointer to it, as a bot that
// passed its trails on does.
func openAndDrop(t *testing.T, dir string) {
	t.Helper()
	j, err := fsm.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Create("57dab8b1-894c-409a-b240-bd8beae78896"); err != nil {
		t.Fatal(err)
	}
}

// A Journal nobody refers to any more keeps its lock: the garbage
// collector closes unreachable files, and closing the lock file would
// drop it while the bot's machines still record.
func TestUnreferencedJournalKeepsItsLock(t *testing.T) {
	dir := t.TempDir()
	openAndDrop(t, dir)
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
	j, err := fsm.OpenJournal(dir)
	if err == nil {
		j.Close()
		t.Fatal("a second OpenJournal succeeded after the first Journal became unreachable and was collected: its lock was lost")
	}
	if !errors.Is(err, fsm.ErrJournalInUse) {
		t.Fatalf("OpenJournal: %v, want ErrJournalInUse", err)
	}
}

// Deleting the lock file while its owner runs does not let a second
// opener in.
func TestDeletedLockFileDoesNotFreeTheJournal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("on Windows the open lock file cannot be deleted")
	}
	dir := t.TempDir()
	j, err := fsm.OpenJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if err := os.Remove(filepath.Join(dir, ".lock")); err != nil {
		t.Fatal(err)
	}
	j2, err := fsm.OpenJournal(dir)
	if err == nil {
		j2.Close()
		t.Fatal("a second OpenJournal succeeded once the owner's lock file was deleted")
	}
	if !errors.Is(err, fsm.ErrJournalInUse) {
		t.Fatalf("OpenJournal: %v, want ErrJournalInUse", err)
	}
}

func TestOpenJournalWaitRefusesANilContext(t *testing.T) {
	//lint:ignore SA1012 the test passes nil on purpose
	j, err := fsm.OpenJournalWait(nil, t.TempDir())
	if err == nil {
		j.Close()
		t.Fatal("OpenJournalWait(nil, dir) opened the journal: want an error naming the nil context")
	}
}
