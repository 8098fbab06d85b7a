package fsm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

// endedWatcher signals when the machine reaches Ended.
func endedWatcher() (fsm.Option, <-chan struct{}) {
	ended := make(chan struct{})
	return fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventTransition && e.To == fsm.Ended {
			close(ended)
		}
	}), ended
}

// returnOf waits for what a call running on another goroutine returned,
// failing the test, naming the call, if it does not return in time.
func returnOf(t *testing.T, returned <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-returned:
		return err
	case <-time.After(watchdog):
		t.Fatalf("hung: %s did not return within %v", what, watchdog)
		return nil
	}
}

// A termination whose deadline passes while a writer still holds its
// lease: CallEnded keeps waiting (the gate closed for good), and once the
// write returns it runs the recording-ended hook and ends. The hook used
// to be skipped, and the error asked for a second CallEnded that does
// nothing.
func TestCallEndedFinishesAfterASlowWritePastItsDeadline(t *testing.T) {
	hooked := make(chan struct{})
	obs, ended := endedWatcher()
	m := newMachine(t, &fakeUpdater{}, obs, fsm.WithRecordingEndedHook(func(_ context.Context, tr fsm.Trigger) error {
		assert.Equal(t, fsm.CallEnded, tr)
		close(hooked)
		return nil
	}))
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	s := m.Gate().NewStream()
	lease, err := s.Acquire()
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- m.CallEnded(ctx) }()
	<-ctx.Done()
	assert.False(t, m.Gate().IsOpen())
	select {
	case err := <-returned:
		t.Fatalf("CallEnded returned (%v) while a writer held its lease", err)
	case <-hooked:
		t.Fatal("the hook ran while a writer held its lease")
	default:
	}

	lease.Release()
	waitFor(t, hooked, "the recording-ended hook after the last lease")
	assert.NoError(t, returnOf(t, returned, "CallEnded after its hook"), "the end finished: nothing to report, past the deadline or not")
	waitFor(t, ended, "the machine's end")
	assert.Equal(t, fsm.Ended, m.State())
}

// The hook of a CallEnded is not cut short by the caller's deadline (a
// notification handler's few seconds): its context outlives it, and keeps
// its values.
func TestCallEndedHookOutlivesTheCallersDeadline(t *testing.T) {
	type key struct{}
	inHook, finish := make(chan context.Context, 1), make(chan struct{})
	obs, ended := endedWatcher()
	m := newMachine(t, &fakeUpdater{}, obs, fsm.WithRecordingEndedHook(func(ctx context.Context, _ fsm.Trigger) error {
		inHook <- ctx
		<-finish // an upload
		return ctx.Err()
	}))
	_, err := m.Start(context.Background())
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "request-id"), 20*time.Millisecond)
	defer cancel()
	returned := make(chan error, 1)
	go func() { returned <- m.CallEnded(ctx) }()
	var hookCtx context.Context
	select {
	case hookCtx = <-inHook:
	case <-time.After(watchdog):
		t.Fatal("hung: the hook never ran")
	}
	<-ctx.Done()
	assert.NoError(t, hookCtx.Err(), "the caller's deadline reached the hook")
	assert.Equal(t, "request-id", hookCtx.Value(key{}), "the hook's context keeps the caller's values")
	assert.NotEqual(t, fsm.Ended, m.State(), "the machine ends after its hook")
	close(finish)
	assert.NoError(t, returnOf(t, returned, "CallEnded after its hook"), "the hook finished its upload")
	waitFor(t, ended, "the machine's end after the hook")
}

// With time enough, CallEnded returns once the hook ran and the machine
// ended, and reports the hook's error.
func TestCallEndedWaitsForItsHookWithTimeEnough(t *testing.T) {
	m := newMachine(t, &fakeUpdater{}, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		return errDiskFull
	}))
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	err = m.CallEnded(context.Background())
	assert.ErrorIs(t, err, errDiskFull)
	assert.Contains(t, err.Error(), "ended anyway")
	assert.NotContains(t, err.Error(), "nothing was reported")
	assert.Equal(t, fsm.Ended, m.State())
}

// Done closes once the machine has ended and its trail has the Ended
// record: the bot can close the trail's file then without losing it.
func TestDoneClosesAfterTheLastRecord(t *testing.T) {
	j, err := fsm.OpenJournal(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	f, err := j.Create(journalCall)
	require.NoError(t, err)
	m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(f))
	require.NoError(t, err)
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	select {
	case <-m.Done():
		t.Fatal("Done closed while recording")
	default:
	}
	go func() { _ = m.CallEnded(context.Background()) }()
	waitFor(t, m.Done(), "Done after CallEnded")
	require.NoError(t, f.Close())
	recs := verifyTrail(t, f.Name())
	last := recs[len(recs)-1]
	assert.Equal(t, fsm.Ended.String(), last.To, "the Ended record is in the trail when Done closes")
	waitFor(t, m.Done(), "Done asked again after the end")
	require.NoError(t, m.CallEnded(context.Background()), "a second CallEnded is a no-op")
}
