package fsm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// journalMachine is a machine keeping its trail in j, on a fake Graph.
func journalMachine(t *testing.T, j *fsm.Journal, callID string) (*fsm.Machine, *os.File) {
	t.Helper()
	f, err := j.Create(callID)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	m, err := fsm.New(callID, &fakeUpdater{}, fsm.WithAuditTrail(f))
	require.NoError(t, err)
	return m, f
}

// endedCall is a journal with one call that recorded and ended.
func endedCall(t *testing.T) (*fsm.Journal, *os.File) {
	t.Helper()
	j := openJournal(t, t.TempDir())
	m, f := journalMachine(t, j, journalCall)
	var err error
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	require.NoError(t, m.CallEnded(context.Background()))
	return j, f
}

// Only trails whose call is over for good leave the journal: an ended call
// and a recovered one. A live recording, a stopped call that may record
// again, an empty trail, a torn one and a tampered one stay.
func TestArchiveEndedMovesOnlyCallsOverForGood(t *testing.T) {
	ctx := context.Background()
	j := openJournal(t, t.TempDir())
	var err error
	call := func(i int) string { return fmt.Sprintf("7a1c0b2e-0000-4000-8000-%012d", i) }

	ended, endedTrail := journalMachine(t, j, call(1))
	_, err = ended.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, ended.Stop(ctx))
	require.NoError(t, ended.CallEnded(ctx))

	live, _ := journalMachine(t, j, call(2))
	_, err = live.Start(ctx)
	require.NoError(t, err)

	stopped, _ := journalMachine(t, j, call(3))
	_, err = stopped.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, stopped.Stop(ctx))

	journalMachine(t, j, call(4)) // created, nothing sent yet

	torn, tornTrail := journalMachine(t, j, call(5))
	_, err = torn.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, torn.Stop(ctx))
	require.NoError(t, torn.CallEnded(ctx))
	data, err := os.ReadFile(tornTrail.Name())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tornTrail.Name(), append(data, `{"seq":99,"ti`...), 0o644))

	tampered, tamperedTrail := journalMachine(t, j, call(6))
	_, err = tampered.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, tampered.CallEnded(ctx))
	data, err = os.ReadFile(tamperedTrail.Name())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(tamperedTrail.Name(), []byte(string(data[:len(data)-2])+"x\n"), 0o644))

	archive := filepath.Join(t.TempDir(), "ended")
	rep, err := j.ArchiveEnded(archive)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(archive, filepath.Base(endedTrail.Name()))}, rep.Moved)
	assert.Equal(t, 5, rep.Kept)
	verifyTrail(t, rep.Moved[0])
	_, err = os.Stat(endedTrail.Name())
	assert.ErrorIs(t, err, os.ErrNotExist, "the ended trail left the journal")

	// The live machine's recording dies with its process: recovery closes
	// its trail, which the next archive run moves. The stopped call's
	// trail stays: its machine may record again.
	j = restart(t, j)
	u := &fakeUpdater{}
	recovered, err := j.Recover(ctx, u, nil)
	require.Error(t, err, "the tampered trail cannot be recovered")
	assert.Equal(t, 1, recovered.Count(fsm.RecoveryReported))
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())
	rep, err = j.ArchiveEnded(archive)
	require.NoError(t, err)
	require.Len(t, rep.Moved, 2, "the recovered trail, and the torn one whose tail Recover cut")
	left, err := j.Trails()
	require.NoError(t, err)
	assert.Len(t, left, 3, "stopped, empty and tampered stay")

	// A Recover of the journal now reads only what is left.
	again, _ := j.Recover(ctx, u, nil)
	assert.Len(t, again.Calls, 3)
	assert.Len(t, u.requests(), 1, "nothing more was reported")
}

// A machine that writes after its trail was archived writes into the moved
// file: nothing of the trail is lost, and it still verifies.
func TestArchiveEndedTrailKeepsLaterRecords(t *testing.T) {
	j, f := endedCall(t)
	before, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	rep, err := j.ArchiveEnded(filepath.Join(t.TempDir(), "a"))
	require.NoError(t, err)
	require.Len(t, rep.Moved, 1)
	_, err = f.Write([]byte("\n")) // the machine's file still works
	require.NoError(t, err)
	after, err := os.ReadFile(rep.Moved[0])
	require.NoError(t, err)
	assert.Equal(t, len(before)+1, len(after), "the write landed in the moved trail")
}

// A file of the same name already in the archive is never replaced; the
// same file (a crash between link and unlink) just leaves the journal.
func TestArchiveEndedNeverReplacesAFile(t *testing.T) {
	j, f := endedCall(t)
	archive := t.TempDir()
	other := filepath.Join(archive, filepath.Base(f.Name()))
	require.NoError(t, os.WriteFile(other, []byte("someone else's\n"), 0o644))

	rep, err := j.ArchiveEnded(archive)
	require.ErrorContains(t, err, "already holds another file")
	assert.Empty(t, rep.Moved)
	got, err := os.ReadFile(other)
	require.NoError(t, err)
	assert.Equal(t, "someone else's\n", string(got))
	_, err = os.Stat(f.Name())
	require.NoError(t, err, "the trail stays in the journal")

	// A crash between the link and the unlink: both names, one file.
	require.NoError(t, os.Remove(other))
	require.NoError(t, os.Link(f.Name(), other))
	rep, err = j.ArchiveEnded(archive)
	require.NoError(t, err)
	assert.Equal(t, []string{other}, rep.Moved)
	_, err = os.Stat(f.Name())
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestArchiveEndedRefusesBadDirectories(t *testing.T) {
	j := openJournal(t, t.TempDir())
	_, err := j.ArchiveEnded("")
	assert.ErrorContains(t, err, "pass the directory")
	_, err = j.ArchiveEnded(j.Dir())
	assert.ErrorContains(t, err, "journal's own directory")
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = j.ArchiveEnded(file)
	assert.Error(t, err, "a file is not a directory")
}
