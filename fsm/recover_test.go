package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

const journalCall = "7a1c0b2e-0000-4000-8000-00000000c0de"

// openJournal opens the journal in dir and closes it when the test ends.
func openJournal(t *testing.T, dir string) *fsm.Journal {
	t.Helper()
	j, err := fsm.OpenJournal(dir)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, j.Close()) })
	return j
}

// restart is the next process: j's process is gone (its Journal closed,
// its lock released; its machines are abandoned as they are) and a new
// one opens the same journal. Recover leaves the trails a Journal created
// itself to its own machines, so a crash is played this way.
func restart(t *testing.T, j *fsm.Journal) *fsm.Journal {
	t.Helper()
	require.NoError(t, j.Close())
	return openJournal(t, j.Dir())
}

// crashedRecording leaves a journal whose one machine was recording when
// its "process" stopped: the machine is simply abandoned with the gate
// open, as SIGKILL would leave it. It returns the next process's journal
// and the trail.
func crashedRecording(t *testing.T) (*fsm.Journal, string) {
	t.Helper()
	j := openJournal(t, t.TempDir())
	f, err := j.Create(journalCall)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(f))
	require.NoError(t, err)
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	require.True(t, m.Gate().IsOpen())
	return restart(t, j), f.Name()
}

func verifyTrail(t *testing.T, path string) []fsm.AuditRecord {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(data))
	require.NoError(t, err, "the trail after recovery must verify")
	return recs
}

func TestRecoverSealsThenReportsFailedOnce(t *testing.T) {
	j, trail := crashedRecording(t)
	u := &fakeUpdater{}
	var hooked []fsm.InterruptedCall
	hook := func(_ context.Context, c fsm.InterruptedCall) error {
		assert.Empty(t, u.requests(), "the hook runs before anything is reported (R2)")
		hooked = append(hooked, c)
		return nil
	}
	rep, err := j.Recover(context.Background(), u, hook)
	require.NoError(t, err)
	require.Len(t, rep.Calls, 1)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	require.Len(t, hooked, 1)
	assert.Equal(t, journalCall, hooked[0].CallID)
	assert.Equal(t, trail, hooked[0].Trail)
	assert.True(t, hooked[0].GateOpen)
	assert.Equal(t, fsm.Recording, hooked[0].State)
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())

	ivs := fsm.AuditIntervals(verifyTrail(t, trail))
	require.Len(t, ivs, 1)
	require.NotNil(t, ivs[0].Closed, "recovery closes the interval")
	require.NotNil(t, ivs[0].Report)
	assert.Equal(t, string(graph.StatusFailed), ivs[0].Report.Status)
	assert.Empty(t, ivs[0].Findings)

	// A second recovery finds a clean trail and does nothing.
	rep, err = j.Recover(context.Background(), u, hook)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Count(fsm.RecoveryClean))
	assert.Len(t, hooked, 1)
	assert.Len(t, u.requests(), 1)
}

func TestRecoverCallGoneClosesTheTrail(t *testing.T) {
	j, trail := crashedRecording(t)
	u := (&fakeUpdater{}).then(reply{Err: &graph.Error{StatusCode: 404, Code: "NotFound"}})
	rep, err := j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryCallGone, rep.Calls[0].Outcome)
	recs := verifyTrail(t, trail)
	assert.Equal(t, fsm.Ended.String(), recs[len(recs)-1].To)
	rep, err = j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryClean, rep.Calls[0].Outcome)
	assert.Len(t, u.requests(), 1)
}

func TestRecoverHookErrorReportsNothingUntilItWorks(t *testing.T) {
	j, trail := crashedRecording(t)
	u := &fakeUpdater{}
	broken := errors.New("disk gone")
	rep, err := j.Recover(context.Background(), u, func(context.Context, fsm.InterruptedCall) error { return broken })
	require.ErrorIs(t, err, broken)
	assert.Equal(t, fsm.RecoveryHookFailed, rep.Calls[0].Outcome)
	assert.Empty(t, u.requests(), "nothing is reported before the hook succeeded")
	verifyTrail(t, trail)

	rep, err = j.Recover(context.Background(), u, func(_ context.Context, c fsm.InterruptedCall) error {
		// The call as the dead process left it, not as the first
		// recovery's records left the trail.
		assert.Equal(t, fsm.Recording, c.State)
		assert.True(t, c.GateOpen)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())
}

func TestRecoverReportErrorIsRetriedNextTime(t *testing.T) {
	j, _ := crashedRecording(t)
	u := (&fakeUpdater{}).then(reply{Err: &graph.Error{StatusCode: 503}})
	rep, err := j.Recover(context.Background(), u, nil)
	require.Error(t, err)
	assert.Equal(t, fsm.RecoveryReportFailed, rep.Calls[0].Outcome)
	rep, err = j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	assert.Equal(t, []graph.Status{graph.StatusFailed, graph.StatusFailed}, u.statuses())
}

func TestRecoverLeavesCleanTrailsAlone(t *testing.T) {
	j := openJournal(t, t.TempDir())
	ctx := context.Background()
	for _, end := range []func(*fsm.Machine) error{
		func(m *fsm.Machine) error { return m.Stop(ctx) },
		func(m *fsm.Machine) error { return m.CallEnded(ctx) },
	} {
		f, err := j.Create(journalCall)
		require.NoError(t, err)
		m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(f))
		require.NoError(t, err)
		_, err = m.Start(ctx)
		require.NoError(t, err)
		require.NoError(t, end(m))
		require.NoError(t, f.Close())
	}
	f, err := j.Create(journalCall) // created, never used
	require.NoError(t, err)
	require.NoError(t, f.Close())
	j = restart(t, j)
	u := &fakeUpdater{}
	rep, err := j.Recover(ctx, u, func(context.Context, fsm.InterruptedCall) error {
		t.Error("the hook must not run for a clean trail")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Count(fsm.RecoveryClean))
	assert.Empty(t, u.requests())
}

// A process killed while its recording request was in flight: the trail
// ends with the request (it is synced before it is sent). Graph may have
// said completed, so failed is reported; a torn half-line is cut first.
func TestRecoverPendingRequestAndTornTail(t *testing.T) {
	j, trail := crashedRecording(t)
	data, err := os.ReadFile(trail)
	require.NoError(t, err)
	recs := verifyTrail(t, trail)
	cut := 0
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		cut += len(line)
		if recs[i].Kind == fsm.EventRequest {
			break
		}
	}
	torn := append(append([]byte(nil), data[:cut]...), []byte(`{"seq":99,"time":"20`)...)
	require.NoError(t, os.WriteFile(trail, torn, 0o644))

	u := &fakeUpdater{}
	var got fsm.InterruptedCall
	rep, err := j.Recover(context.Background(), u, func(_ context.Context, c fsm.InterruptedCall) error { got = c; return nil })
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	assert.Equal(t, len(`{"seq":99,"time":"20`), rep.Calls[0].TornBytes)
	assert.NotEmpty(t, got.PendingRequest)
	assert.Equal(t, graph.StatusRecording, got.PendingStatus)
	assert.False(t, got.GateOpen)
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())
	verifyTrail(t, trail)
}

func TestRecoverRefusesATamperedTrail(t *testing.T) {
	j, trail := crashedRecording(t)
	data, err := os.ReadFile(trail)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(trail, bytes.Replace(data, []byte(`"seq":2`), []byte(`"seq":7`), 1), 0o644))
	u := &fakeUpdater{}
	rep, err := j.Recover(context.Background(), u, nil)
	require.ErrorIs(t, err, fsm.ErrAuditTampered)
	assert.Equal(t, fsm.RecoveryUnreadable, rep.Calls[0].Outcome)
	assert.Empty(t, u.requests())
}

// The authorization is synced before the gate opens, the gate's record
// after: a process killed in between leaves a trail that ends with the
// authorization, and recovery must treat the gate as open.
func TestRecoverTreatsATrailingAuthorizationAsAnOpenGate(t *testing.T) {
	j, trail := crashedRecording(t)
	data, err := os.ReadFile(trail)
	require.NoError(t, err)
	recs := verifyTrail(t, trail)
	cut := 0
	for i, line := range bytes.SplitAfter(data, []byte("\n")) {
		cut += len(line)
		if recs[i].Kind == fsm.EventAuthorized {
			break
		}
	}
	require.NoError(t, os.WriteFile(trail, data[:cut], 0o644))
	u := &fakeUpdater{}
	var got fsm.InterruptedCall
	rep, err := j.Recover(context.Background(), u, func(_ context.Context, c fsm.InterruptedCall) error { got = c; return nil })
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	assert.True(t, got.GateOpen)
	assert.Equal(t, []graph.Status{graph.StatusFailed}, u.statuses())
	after := verifyTrail(t, trail)
	var closed bool
	for _, r := range after {
		if r.Kind == fsm.EventGate && r.GateOpen != nil && !*r.GateOpen && r.Trigger == fsm.RecoverTrigger {
			closed = true
		}
	}
	assert.True(t, closed, "recovery records the gate closed")
}

// Graph refuses the recovery's failed with 8506 (the call is not, or no
// longer, a compliance-recording call): no retry can change that, so the
// trail is ended instead of being retried at every start-up. Another
// refusal (403 without 8506) is retried.
func TestRecoverNonComplianceEndsTheTrail(t *testing.T) {
	j, trail := crashedRecording(t)
	refusal := &graph.Error{StatusCode: 403, Code: "Forbidden", InnerCodes: []string{graph.CodeNonComplianceCall}}
	u := (&fakeUpdater{}).then(reply{Err: refusal})
	rep, err := j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryNonCompliance, rep.Calls[0].Outcome)
	recs := verifyTrail(t, trail)
	assert.Equal(t, fsm.Failed.String(), recs[len(recs)-1].To)
	rep, err = j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryClean, rep.Calls[0].Outcome)
	assert.Len(t, u.requests(), 1)

	j, _ = crashedRecording(t)
	u = (&fakeUpdater{}).then(reply{Err: &graph.Error{StatusCode: 403, Code: "Forbidden"}})
	rep, err = j.Recover(context.Background(), u, nil)
	require.Error(t, err)
	assert.Equal(t, fsm.RecoveryReportFailed, rep.Calls[0].Outcome)
	rep, err = j.Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome, "a plain 403 is retried, and this time Graph took it")
}

// Recover leaves the trails its own Journal created to their machines:
// a bot that retries Recover while it serves calls (or, wrongly, recovers
// in every Start) never reports its own live recording failed, runs no
// hook on its files and does not touch its trail. The next process, once
// this one is gone, recovers it.
func TestRecoverLeavesItsOwnTrailsToTheirMachines(t *testing.T) {
	j := openJournal(t, t.TempDir())
	f, err := j.Create(journalCall)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(f))
	require.NoError(t, err)
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	before, err := os.ReadFile(f.Name())
	require.NoError(t, err)

	u := &fakeUpdater{}
	rep, err := j.Recover(context.Background(), u, func(context.Context, fsm.InterruptedCall) error {
		t.Error("the hook must not run on this process's own live call")
		return nil
	})
	require.NoError(t, err, "an own trail is not an error")
	require.Len(t, rep.Calls, 1)
	assert.Equal(t, fsm.RecoveryOwnTrail, rep.Calls[0].Outcome)
	assert.Equal(t, fsm.Recording, rep.Calls[0].State)
	assert.Empty(t, u.requests())
	assert.True(t, m.Gate().IsOpen(), "the live recording goes on")
	after, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, before, after, "the live trail is untouched")

	rep, err = restart(t, j).Recover(context.Background(), u, nil)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome, "the next process recovers it")
}

// Audit finding 8: a Recover whose hook succeeded and whose failed report
// did not reach Graph (503) is retried by the next Recover, which reports
// failed without running the hook again (the trail records its success);
// a hook that failed runs again (TestRecoverHookErrorReportsNothingUntilItWorks).
func TestRecoverDoesNotRerunAHookThatSucceeded(t *testing.T) {
	j, trail := crashedRecording(t)
	u := (&fakeUpdater{}).then(reply{Err: &graph.Error{StatusCode: 503}}, reply{Err: &graph.Error{StatusCode: 401}})
	hooked := 0
	hook := func(context.Context, fsm.InterruptedCall) error { hooked++; return nil }
	for _, want := range []bool{false, true} {
		rep, err := j.Recover(context.Background(), u, hook)
		require.Error(t, err)
		assert.Equal(t, fsm.RecoveryReportFailed, rep.Calls[0].Outcome)
		assert.Equal(t, want, rep.Calls[0].HookSkipped)
	}
	j = restart(t, j) // a restart in between changes nothing
	rep, err := j.Recover(context.Background(), u, hook)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	assert.True(t, rep.Calls[0].HookSkipped)
	assert.Equal(t, 1, hooked, "the hook ran once, for three Recovers")
	assert.Equal(t, []graph.Status{graph.StatusFailed, graph.StatusFailed, graph.StatusFailed}, u.statuses())
	ivs := fsm.AuditIntervals(verifyTrail(t, trail))
	require.Len(t, ivs, 1)
	assert.Empty(t, ivs[0].Findings, "the reports all follow the hook's record")
}

// A hook that failed runs again on the next Recover, and is told the call
// as the dead process left it (gate open, Recording), not as the first
// recovery's records left the trail (gate closed, Stopping): a hook that
// seals only when GateOpen must seal on the retry too.
func TestRetriedRecoveryHookSeesTheCallAsLeft(t *testing.T) {
	j, trail := crashedRecording(t)
	u := &fakeUpdater{}
	var seen []fsm.InterruptedCall
	hook := func(_ context.Context, c fsm.InterruptedCall) error {
		seen = append(seen, c)
		if len(seen) == 1 {
			return errors.New("the media volume is not mounted yet")
		}
		return nil
	}
	_, err := j.Recover(context.Background(), u, hook)
	require.Error(t, err)
	rep, err := j.Recover(context.Background(), u, hook)
	require.NoError(t, err)
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
	require.Len(t, seen, 2)
	assert.True(t, seen[0].GateOpen)
	assert.Equal(t, fsm.Recording, seen[0].State)
	assert.Equal(t, seen[0].GateOpen, seen[1].GateOpen, "the retry is told the gate as the dead process left it")
	assert.Equal(t, seen[0].State, seen[1].State)
	assert.Equal(t, seen[0].Epoch, seen[1].Epoch)
	ivs := fsm.AuditIntervals(verifyTrail(t, trail))
	require.Len(t, ivs, 1)
	assert.Empty(t, ivs[0].Findings)
}

// A trail that ArchiveEnded moves while Recover runs (after Recover listed
// it) is skipped, not reported as unreadable.
func TestRecoverSkipsATrailMovedMeanwhile(t *testing.T) {
	j := openJournal(t, t.TempDir())
	crashed, err := j.Create(journalCall)
	require.NoError(t, err)
	t.Cleanup(func() { crashed.Close() })
	m, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(crashed))
	require.NoError(t, err)
	_, err = m.Start(context.Background())
	require.NoError(t, err)
	ended, err := j.Create(journalCall) // listed after the crashed one
	require.NoError(t, err)
	e, err := fsm.New(journalCall, &fakeUpdater{}, fsm.WithAuditTrail(ended))
	require.NoError(t, err)
	require.NoError(t, e.CallEnded(context.Background()))
	<-e.Done()
	require.NoError(t, ended.Close())
	j = restart(t, j)
	archive := t.TempDir()
	hook := func(context.Context, fsm.InterruptedCall) error {
		// What a background ArchiveEnded does meanwhile.
		return os.Rename(ended.Name(), filepath.Join(archive, filepath.Base(ended.Name())))
	}
	rep, err := j.Recover(context.Background(), &fakeUpdater{}, hook)
	require.NoError(t, err)
	require.Len(t, rep.Calls, 1, "only the crashed call: the moved one is skipped")
	assert.Equal(t, fsm.RecoveryReported, rep.Calls[0].Outcome)
}

// A recovery hook that calls the journal while Close waits for the
// recovery gets ErrJournalClosed at once, and Close and Recover return.
func TestCloseDuringRecoverDoesNotDeadlockAHookThatUsesTheJournal(t *testing.T) {
	j, _ := crashedRecording(t)
	inHook := make(chan struct{})
	var hookErr error
	hook := func(context.Context, fsm.InterruptedCall) error {
		close(inHook)
		for {
			if _, err := j.Trails(); err != nil {
				hookErr = err
				return nil
			}
			runtime.Gosched() // until Close has begun
		}
	}
	recovered := make(chan struct{})
	go func() {
		defer close(recovered)
		_, _ = j.Recover(context.Background(), &fakeUpdater{}, hook)
	}()
	watchdog := time.NewTimer(10 * time.Second)
	defer watchdog.Stop()
	select {
	case <-inHook:
	case <-watchdog.C:
		t.Fatal("watchdog: the recovery hook never ran")
	}
	closed := make(chan error, 1)
	go func() { closed <- j.Close() }()
	select {
	case <-recovered:
	case <-watchdog.C:
		t.Fatal("watchdog: Recover did not return while Close waited for it (a hook calling the journal deadlocked)")
	}
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-watchdog.C:
		t.Fatal("watchdog: Close did not return after Recover")
	}
	assert.ErrorIs(t, hookErr, fsm.ErrJournalClosed)
}

// A recovery hook that closes the journal (a bot shutting down from its
// hook) neither deadlocks nor loses the lock before Recover returns.
func TestCloseFromARecoveryHook(t *testing.T) {
	j, _ := crashedRecording(t)
	done := make(chan error, 1)
	go func() {
		_, err := j.Recover(context.Background(), &fakeUpdater{}, func(context.Context, fsm.InterruptedCall) error {
			if err := j.Close(); err != nil {
				return err
			}
			if _, err := fsm.OpenJournal(j.Dir()); !errors.Is(err, fsm.ErrJournalInUse) {
				return fmt.Errorf("the lock was released while the recovery still ran: %v", err)
			}
			return nil
		})
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("watchdog: Recover did not return: a hook that calls Close deadlocked")
	}
	again, err := fsm.OpenJournal(j.Dir())
	require.NoError(t, err, "the lock is released once Recover returned")
	require.NoError(t, again.Close())
}

// Once recovered, a trail reads clean, as it is now (gate closed), not as
// the dead process left it: code that acts on GateOpen acts once.
func TestRecoveredTrailReportsItsStateNow(t *testing.T) {
	j, _ := crashedRecording(t)
	_, err := j.Recover(context.Background(), &fakeUpdater{}, nil)
	require.NoError(t, err)
	rep, err := j.Recover(context.Background(), &fakeUpdater{}, nil)
	require.NoError(t, err)
	require.Len(t, rep.Calls, 1)
	assert.Equal(t, fsm.RecoveryClean, rep.Calls[0].Outcome)
	assert.False(t, rep.Calls[0].GateOpen)
	assert.NotEqual(t, fsm.Recording, rep.Calls[0].State)
}
