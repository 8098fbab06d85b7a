package fsm_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

// A second OpenJournal on a directory fails while the first Journal is
// open, in the same process too, and says who holds it and what to do;
// after Close it succeeds.
func TestOpenJournalTwiceInOneProcessFailsUntilClose(t *testing.T) {
	dir := t.TempDir()
	j, err := fsm.OpenJournal(dir)
	require.NoError(t, err)

	second, err := fsm.OpenJournal(dir)
	require.ErrorIs(t, err, fsm.ErrJournalInUse)
	assert.Nil(t, second)
	msg := err.Error()
	for _, want := range []string{dir, "pid " + strconv.Itoa(os.Getpid()), "stop that process first", "rolling deploy", "its own directory", "Close the Journal"} {
		assert.Contains(t, msg, want)
	}

	// The same directory under another name is the same lock.
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(dir, link))
	_, err = fsm.OpenJournal(link)
	require.ErrorIs(t, err, fsm.ErrJournalInUse)

	require.NoError(t, j.Close())
	again, err := fsm.OpenJournal(dir)
	require.NoError(t, err, "the lock is free once the first Journal is closed")
	require.NoError(t, again.Close())
}

// Close is idempotent; afterwards every method that touches the journal
// returns ErrJournalClosed naming it, and nothing panics (a nil or zero
// Journal neither).
func TestClosedJournalRefusesUse(t *testing.T) {
	dir := t.TempDir()
	j, err := fsm.OpenJournal(dir)
	require.NoError(t, err)
	require.NoError(t, j.Close())
	require.NoError(t, j.Close(), "a second Close does nothing")
	assert.Equal(t, dir, j.Dir())

	_, err = j.Create(journalCall)
	assertClosed(t, err, dir, "Create")
	_, err = j.Trails()
	assertClosed(t, err, dir, "Trails")
	_, err = j.Recover(context.Background(), &fakeUpdater{}, nil)
	assertClosed(t, err, dir, "Recover")
	_, err = j.ArchiveEnded(t.TempDir())
	assertClosed(t, err, dir, "ArchiveEnded")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.Equal(t, ".lock", e.Name(), "a closed journal created nothing")
	}

	for _, bad := range []*fsm.Journal{nil, {}} {
		assert.NoError(t, bad.Close())
		_, err := bad.Create(journalCall)
		assert.ErrorContains(t, err, "OpenJournal")
		_, err = bad.Recover(context.Background(), &fakeUpdater{}, nil)
		assert.ErrorContains(t, err, "OpenJournal")
		_, err = bad.ArchiveEnded(t.TempDir())
		assert.ErrorContains(t, err, "OpenJournal")
		_, err = bad.Trails()
		assert.ErrorContains(t, err, "OpenJournal")
	}
}

func assertClosed(t *testing.T, err error, dir, op string) {
	t.Helper()
	require.ErrorIs(t, err, fsm.ErrJournalClosed, op)
	assert.Contains(t, err.Error(), dir, op)
	assert.Contains(t, err.Error(), "Journal."+op, op)
}

// The lock file lives in the journal's directory but is no trail: Trails,
// Recover and ArchiveEnded pass it by, and it stays.
func TestLockFileIsNotATrail(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir)
	m, f := journalMachine(t, j, journalCall)
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	require.NoError(t, m.CallEnded(context.Background()))
	require.NoError(t, f.Close())
	data, err := os.ReadFile(filepath.Join(dir, ".lock"))
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", string(data), "the lock file names its holder")

	trails, err := j.Trails()
	require.NoError(t, err)
	assert.Equal(t, []string{f.Name()}, trails)
	j = restart(t, j)
	rep, err := j.Recover(context.Background(), &fakeUpdater{}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Calls, 1)
	assert.Equal(t, fsm.RecoveryClean, rep.Calls[0].Outcome)
	arch, err := j.ArchiveEnded(filepath.Join(t.TempDir(), "ended"))
	require.NoError(t, err)
	assert.Len(t, arch.Moved, 1)
	assert.Zero(t, arch.Kept)
	_, err = os.Stat(filepath.Join(dir, ".lock"))
	assert.NoError(t, err, "the lock file stays in the journal")
}

// OpenJournalWait waits while another Journal holds the directory and
// returns once it is released; when its context ends first, the error
// says both why it stopped and who holds the journal.
func TestOpenJournalWait(t *testing.T) {
	dir := t.TempDir()
	first, err := fsm.OpenJournal(dir)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = fsm.OpenJournalWait(ctx, dir)
	require.ErrorIs(t, err, fsm.ErrJournalInUse)
	require.ErrorIs(t, err, context.Canceled)

	type opened struct {
		j   *fsm.Journal
		err error
	}
	got := make(chan opened, 1)
	go func() {
		j, err := fsm.OpenJournalWait(context.Background(), dir)
		got <- opened{j, err}
	}()
	require.NoError(t, first.Close())
	select {
	case o := <-got:
		require.NoError(t, o.err)
		require.NoError(t, o.j.Close())
	case <-time.After(10 * time.Second):
		t.Fatal("watchdog: OpenJournalWait did not return within 10 s of the holder's Close")
	}

	_, err = fsm.OpenJournalWait(context.Background(), "")
	assert.ErrorContains(t, err, "pass the directory", "other errors return at once")
}

// Close during a Recover returns at once, and the lock is released only
// when the Recover returns: never while this process is still putting a
// trail right.
func TestCloseDuringRecoverReleasesWhenItReturns(t *testing.T) {
	j, _ := crashedRecording(t)
	inHook, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	letGo := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(letGo) // a failing test must not leave the Close in Cleanup waiting for the hook
	recovered := make(chan error, 1)
	go func() {
		_, err := j.Recover(context.Background(), &fakeUpdater{}, func(context.Context, fsm.InterruptedCall) error {
			close(inHook)
			<-release
			return nil
		})
		recovered <- err
	}()
	waitFor(t, inHook, "the recovery hook to run")
	require.NoError(t, j.Close(), "Close returns at once, leaving the release to the recovery")
	_, err := fsm.OpenJournal(j.Dir())
	require.ErrorIs(t, err, fsm.ErrJournalInUse, "the lock is held while the recovery runs")
	letGo()
	require.NoError(t, <-recovered)
	again, err := fsm.OpenJournal(j.Dir())
	require.NoError(t, err)
	require.NoError(t, again.Close())
}

// Closing from many goroutines at once is one Close.
func TestConcurrentCloses(t *testing.T) {
	j, err := fsm.OpenJournal(t.TempDir())
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- j.Close() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	_, err = j.Create(journalCall)
	assert.True(t, errors.Is(err, fsm.ErrJournalClosed), "%v", err)
}
