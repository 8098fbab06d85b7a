package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

const callID = "57dab8b1-894c-409a-b240-bd8beae78896"

var errHTTP = &graph.Error{StatusCode: 500, Code: "InternalServerError", Message: "boom"}

func newMachine(t *testing.T, u fsm.Updater, opts ...fsm.Option) *fsm.Machine {
	t.Helper()
	m, err := fsm.New(callID, u, opts...)
	require.NoError(t, err)
	return m
}

// reach drives a new machine into state s with the fake updater's help.
func reach(t *testing.T, s fsm.State, opts ...fsm.Option) (*fsm.Machine, *fakeUpdater) {
	t.Helper()
	u := &fakeUpdater{}
	m := newMachine(t, u, opts...)
	ctx := context.Background()
	switch s {
	case fsm.NotRecording:
	case fsm.AwaitingConfirmation:
		u.then(reply{Status: graph.OperationRunning})
		_, err := m.Start(ctx)
		require.NoError(t, err)
	case fsm.Recording:
		_, err := m.Start(ctx)
		require.NoError(t, err)
	case fsm.Stopping:
		_, err := m.Start(ctx)
		require.NoError(t, err)
		u.then(reply{Err: errHTTP})
		require.Error(t, m.Stop(ctx))
	case fsm.Failed:
		_, err := m.Start(ctx)
		require.NoError(t, err)
		require.NoError(t, m.Fail(ctx))
	case fsm.Ended:
		require.NoError(t, m.CallEnded(ctx))
	}
	require.Equal(t, s, m.State())
	return m, u
}

func TestNewRejectsBadInput(t *testing.T) {
	u := &fakeUpdater{}
	for _, id := range []string{"", "a/b", "a?b", "a#b", "a%2Fb", "a b", "a\nb", "a\x00b", strings.Repeat("x", graph.MaxCallIDLen+1), "\xff"} {
		_, err := fsm.New(id, u)
		assert.ErrorIs(t, err, graph.ErrInvalidCallID, "call ID %q", id)
	}
	_, err := fsm.New(callID, nil)
	assert.ErrorContains(t, err, "nil Updater")
	_, err = fsm.New(callID, u, nil)
	assert.ErrorContains(t, err, "option 0 is nil")
	for _, o := range []fsm.Option{fsm.WithRecordingEndedHook(nil), fsm.WithLogger(nil), fsm.WithObserver(nil), fsm.WithClientContexts(nil)} {
		_, err = fsm.New(callID, u, o)
		assert.ErrorContains(t, err, "nil")
	}
	m, err := fsm.New(callID, u)
	require.NoError(t, err)
	assert.Equal(t, callID, m.CallID())
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.False(t, m.Gate().IsOpen())
}

func TestStartCompletedOpensGate(t *testing.T) {
	u := &fakeUpdater{}
	m := newMachine(t, u)
	op, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, graph.OperationCompleted, op.Status)
	assert.Equal(t, fsm.Recording, m.State())
	assert.True(t, m.Gate().IsOpen())
	reqs := u.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, graph.StatusRecording, reqs[0].Status)
	assert.NotEmpty(t, reqs[0].ClientContext)
	assert.LessOrEqual(t, len(reqs[0].ClientContext), graph.MaxClientContextLen)
	assert.Equal(t, reqs[0].ClientContext, op.ClientContext)
}

func TestStartPendingKeepsGateClosed(t *testing.T) {
	for _, st := range []graph.OperationStatus{graph.OperationNotStarted, graph.OperationRunning, ""} {
		t.Run(st.String(), func(t *testing.T) {
			u := (&fakeUpdater{}).then(reply{Status: st})
			m := newMachine(t, u)
			var sink strings.Builder
			w := m.Gate().Writer(&sink)
			_, err := m.Start(context.Background())
			require.NoError(t, err)
			assert.Equal(t, fsm.AwaitingConfirmation, m.State())
			assert.False(t, m.Gate().IsOpen())
			_, err = w.Write([]byte("frame"))
			assert.ErrorIs(t, err, fsm.ErrGateClosed)
			assert.Empty(t, sink.String())
		})
	}
}

func TestStartRefusedLeavesStateAndWrapsCause(t *testing.T) {
	cases := []struct {
		name  string
		reply reply
		check func(t *testing.T, err error)
	}{
		{"operation failed", reply{Status: graph.OperationFailed}, func(t *testing.T, err error) {
			var oe *graph.OperationError
			assert.ErrorAs(t, err, &oe)
			assert.ErrorIs(t, err, graph.ErrOperationFailed)
		}},
		{"http error", reply{Err: errHTTP}, func(t *testing.T, err error) {
			var ge *graph.Error
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, 500, ge.StatusCode)
		}},
		{"unknown status", reply{Status: "Exploded"}, func(t *testing.T, err error) {
			assert.ErrorContains(t, err, "unknown status")
		}},
	}
	for _, from := range []fsm.State{fsm.NotRecording, fsm.Failed} {
		for _, c := range cases {
			t.Run(from.String()+"/"+c.name, func(t *testing.T) {
				m, u := reach(t, from)
				before := len(u.requests())
				u.then(c.reply)
				_, err := m.Start(context.Background())
				require.Error(t, err)
				assert.ErrorIs(t, err, fsm.ErrNotConfirmed)
				var re *fsm.RequestError
				require.ErrorAs(t, err, &re)
				assert.Equal(t, fsm.Start, re.Trigger)
				assert.Equal(t, from, re.State)
				c.check(t, err)
				assert.Equal(t, from, m.State())
				assert.False(t, m.Gate().IsOpen())
				assert.Len(t, u.requests(), before+1, "exactly one request per attempt")
			})
		}
	}
}

func TestOperationUpdate(t *testing.T) {
	ctx := context.Background()
	pendingMachine := func(t *testing.T) (*fsm.Machine, graph.Operation) {
		u := (&fakeUpdater{}).then(reply{Status: graph.OperationNotStarted})
		m := newMachine(t, u)
		op, err := m.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, fsm.AwaitingConfirmation, m.State())
		return m, op
	}
	t.Run("completed opens the gate", func(t *testing.T) {
		m, op := pendingMachine(t)
		op.Status = graph.OperationCompleted
		require.NoError(t, m.OperationUpdate(ctx, op))
		assert.Equal(t, fsm.Recording, m.State())
		assert.True(t, m.Gate().IsOpen())
	})
	t.Run("matched by operation id without clientContext", func(t *testing.T) {
		m, op := pendingMachine(t)
		require.NoError(t, m.OperationUpdate(ctx, graph.Operation{ID: op.ID, Status: graph.OperationCompleted}))
		assert.True(t, m.Gate().IsOpen())
	})
	t.Run("failed returns to NotRecording", func(t *testing.T) {
		m, op := pendingMachine(t)
		op.Status = graph.OperationFailed
		op.ResultInfo = &graph.ResultInfo{Code: 403, Subcode: 8506, Message: "not allowed"}
		err := m.OperationUpdate(ctx, op)
		assert.ErrorIs(t, err, graph.ErrOperationFailed)
		assert.ErrorIs(t, err, fsm.ErrNotConfirmed)
		assert.Equal(t, fsm.NotRecording, m.State())
		assert.False(t, m.Gate().IsOpen())
	})
	t.Run("still pending changes nothing", func(t *testing.T) {
		m, op := pendingMachine(t)
		op.Status = graph.OperationRunning
		require.NoError(t, m.OperationUpdate(ctx, op))
		assert.Equal(t, fsm.AwaitingConfirmation, m.State())
		assert.False(t, m.Gate().IsOpen())
		op.Status = graph.OperationCompleted
		require.NoError(t, m.OperationUpdate(ctx, op), "the attempt stays pending and can still complete")
		assert.True(t, m.Gate().IsOpen())
	})
	t.Run("stale update ignored", func(t *testing.T) {
		m, op := pendingMachine(t)
		err := m.OperationUpdate(ctx, graph.Operation{ClientContext: "someone-else", ID: op.ID, Status: graph.OperationCompleted})
		assert.ErrorIs(t, err, fsm.ErrStaleUpdate)
		assert.Equal(t, fsm.AwaitingConfirmation, m.State())
		assert.False(t, m.Gate().IsOpen())
	})
	t.Run("unknown status refused", func(t *testing.T) {
		m, op := pendingMachine(t)
		op.Status = "Exploded"
		assert.ErrorIs(t, m.OperationUpdate(ctx, op), fsm.ErrNotConfirmed)
		assert.Equal(t, fsm.AwaitingConfirmation, m.State())
		assert.False(t, m.Gate().IsOpen())
	})
	t.Run("update after stop is not permitted", func(t *testing.T) {
		m, op := pendingMachine(t)
		require.NoError(t, m.Stop(ctx))
		op.Status = graph.OperationCompleted
		var te *fsm.TransitionError
		require.ErrorAs(t, m.OperationUpdate(ctx, op), &te)
		assert.Equal(t, fsm.NotRecording, te.State)
		assert.False(t, m.Gate().IsOpen())
	})
}

func TestStopReportsNotRecordingAfterHook(t *testing.T) {
	var order []string
	hook := func(_ context.Context, tr fsm.Trigger) error {
		order = append(order, "hook:"+tr.String())
		return nil
	}
	u := &fakeUpdater{}
	m := newMachine(t, u, fsm.WithRecordingEndedHook(hook), fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventRequest {
			order = append(order, "request:"+e.Status.String())
		}
	}))
	ctx := context.Background()
	_, err := m.Start(ctx)
	require.NoError(t, err)
	require.NoError(t, m.Stop(ctx))
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.Equal(t, []string{"request:recording", "hook:Stop", "request:notRecording"}, order)
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
}

func TestStopFromAwaitingConfirmation(t *testing.T) {
	m, u := reach(t, fsm.AwaitingConfirmation)
	require.NoError(t, m.Stop(context.Background()))
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
}

func TestStopReportRefusedStaysStoppingAndRetries(t *testing.T) {
	hooks := 0
	m, u := reach(t, fsm.Recording, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { hooks++; return nil }))
	ctx := context.Background()
	for _, r := range []reply{{Err: errHTTP}, {Status: graph.OperationFailed}} {
		u.then(r)
		err := m.Stop(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, fsm.ErrNotConfirmed)
		assert.Equal(t, fsm.Stopping, m.State())
		assert.False(t, m.Gate().IsOpen())
	}
	// A pending reply to notRecording is an acceptance: persistence has
	// ended already, Graph finishes the rest.
	u.then(reply{Status: graph.OperationRunning})
	require.NoError(t, m.Stop(ctx))
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.Equal(t, 1, hooks, "the hook runs once, when Recording is left")
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording, graph.StatusNotRecording, graph.StatusNotRecording}, u.statuses())
}

func TestFailReportsFailedAndStartWorksAgain(t *testing.T) {
	var reasons []fsm.Trigger
	m, u := reach(t, fsm.Recording, fsm.WithRecordingEndedHook(func(_ context.Context, tr fsm.Trigger) error { reasons = append(reasons, tr); return nil }))
	ctx := context.Background()
	require.NoError(t, m.Fail(ctx))
	assert.Equal(t, fsm.Failed, m.State())
	assert.False(t, m.Gate().IsOpen())
	_, err := m.Start(ctx)
	require.NoError(t, err)
	assert.True(t, m.Gate().IsOpen())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusFailed, graph.StatusRecording}, u.statuses())
	assert.Equal(t, []fsm.Trigger{fsm.Fail}, reasons)
}

func TestFailRetriedFromStopping(t *testing.T) {
	m, u := reach(t, fsm.Stopping)
	require.NoError(t, m.Fail(context.Background()))
	assert.Equal(t, fsm.Failed, m.State())
	assert.Equal(t, graph.StatusFailed, u.statuses()[len(u.statuses())-1])
}

func TestCallEndedFromEveryState(t *testing.T) {
	for _, s := range fsm.States() {
		t.Run(s.String(), func(t *testing.T) {
			var reasons []fsm.Trigger
			m, u := reach(t, s, fsm.WithRecordingEndedHook(func(_ context.Context, tr fsm.Trigger) error { reasons = append(reasons, tr); return nil }))
			before := len(u.requests())
			hooksBefore := len(reasons)
			require.NoError(t, m.CallEnded(context.Background()))
			assert.Equal(t, fsm.Ended, m.State())
			assert.False(t, m.Gate().IsOpen())
			assert.Len(t, u.requests(), before, "CallEnded sends nothing")
			if s == fsm.Recording {
				assert.Equal(t, []fsm.Trigger{fsm.CallEnded}, reasons[hooksBefore:], "leaving Recording runs the hook")
			} else {
				assert.Len(t, reasons, hooksBefore)
			}
			require.NoError(t, m.CallEnded(context.Background()), "a second CallEnded is a no-op")

			_, err := m.Start(context.Background())
			assert.ErrorIs(t, err, fsm.ErrCallEnded)
			assert.ErrorIs(t, m.Stop(context.Background()), fsm.ErrCallEnded)
			assert.ErrorIs(t, m.Fail(context.Background()), fsm.ErrCallEnded)
			assert.Len(t, u.requests(), before)
			assert.False(t, m.Gate().IsOpen())
		})
	}
}

func TestCallEndedHookErrorStillEnds(t *testing.T) {
	boom := errors.New("disk full")
	m, _ := reach(t, fsm.Recording, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return boom }))
	err := m.CallEnded(context.Background())
	assert.ErrorIs(t, err, boom)
	assert.Equal(t, fsm.Ended, m.State())
}

func TestHookErrorAbortsStopBeforeReport(t *testing.T) {
	fail := true
	m, u := reach(t, fsm.Recording, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		if fail {
			return errors.New("flush failed")
		}
		return nil
	}))
	ctx := context.Background()
	err := m.Stop(ctx)
	assert.ErrorContains(t, err, "flush failed")
	assert.Equal(t, fsm.Recording, m.State())
	assert.False(t, m.Gate().IsOpen(), "the gate stays closed")
	assert.Equal(t, []graph.Status{graph.StatusRecording}, u.statuses(), "nothing reported while the hook fails")
	fail = false
	require.NoError(t, m.Stop(ctx))
	assert.Equal(t, fsm.NotRecording, m.State())
}

// The specification permits these (state, trigger) pairs; every other pair
// must be refused with a *TransitionError, sending nothing and changing
// nothing.
var permitted = map[fsm.State][]fsm.Trigger{
	fsm.NotRecording:         {fsm.Start, fsm.CallEnded},
	fsm.AwaitingConfirmation: {fsm.OperationUpdate, fsm.Stop, fsm.Fail, fsm.CallEnded, fsm.ConfirmationTimeout},
	fsm.Recording:            {fsm.Stop, fsm.Fail, fsm.CallEnded},
	fsm.Stopping:             {fsm.Stop, fsm.Fail, fsm.CallEnded, fsm.ConfirmationTimeout},
	fsm.Failed:               {fsm.Start, fsm.CallEnded},
	fsm.Ended:                {fsm.CallEnded},
}

func fireTrigger(ctx context.Context, m *fsm.Machine, tr fsm.Trigger) error {
	switch tr {
	case fsm.Start:
		_, err := m.Start(ctx)
		return err
	case fsm.Stop:
		return m.Stop(ctx)
	case fsm.Fail:
		return m.Fail(ctx)
	case fsm.OperationUpdate:
		return m.OperationUpdate(ctx, graph.Operation{ClientContext: "x", Status: graph.OperationCompleted})
	case fsm.CallEnded:
		return m.CallEnded(ctx)
	}
	return fmt.Errorf("unknown trigger %v", tr)
}

func TestRefusedTriggersChangeNothing(t *testing.T) {
	for _, s := range fsm.States() {
		for _, tr := range fsm.Triggers() {
			if contains(permitted[s], tr) || tr == fsm.ConfirmationTimeout {
				// ConfirmationTimeout has no method: only the machine's own
				// timer fires it (deadline_test.go).
				continue
			}
			t.Run(s.String()+"/"+tr.String(), func(t *testing.T) {
				m, u := reach(t, s)
				before := len(u.requests())
				wasOpen := m.Gate().IsOpen()
				err := fireTrigger(context.Background(), m, tr)
				var te *fsm.TransitionError
				require.ErrorAs(t, err, &te)
				assert.ErrorIs(t, err, fsm.ErrNotPermitted)
				assert.Equal(t, s, te.State)
				assert.Equal(t, tr, te.Trigger)
				assert.Contains(t, err.Error(), s.String())
				assert.Contains(t, err.Error(), tr.String())
				assert.Equal(t, s, m.State())
				assert.Len(t, u.requests(), before)
				assert.Equal(t, wasOpen, m.Gate().IsOpen())
			})
		}
	}
}

func TestIntrospectionSendsNothing(t *testing.T) {
	for _, s := range fsm.States() {
		t.Run(s.String(), func(t *testing.T) {
			m, u := reach(t, s)
			before := len(u.requests())
			for i := 0; i < 3; i++ {
				for _, tr := range fsm.Triggers() {
					assert.Equal(t, contains(permitted[s], tr), m.CanFire(tr), "CanFire(%s)", tr)
				}
				assert.ElementsMatch(t, permitted[s], m.PermittedTriggers())
				assert.Contains(t, m.String(), s.String())
				assert.Contains(t, m.DOT(), "digraph")
			}
			assert.Len(t, u.requests(), before)
		})
	}
}

func TestOneRequestPerAttempt(t *testing.T) {
	// Start has two guarded transitions per state; stateless evaluates both
	// (and checks again for mutual exclusion), yet Graph hears once.
	for _, st := range []graph.OperationStatus{graph.OperationCompleted, graph.OperationRunning, graph.OperationFailed} {
		u := (&fakeUpdater{}).then(reply{Status: st})
		m := newMachine(t, u)
		_, _ = m.Start(context.Background())
		assert.Len(t, u.requests(), 1, "status %s", st)
	}
}

func TestClientContextsUniqueAndBounded(t *testing.T) {
	m, u := reach(t, fsm.NotRecording)
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		_, err := m.Start(ctx)
		require.NoError(t, err)
		require.NoError(t, m.Stop(ctx))
	}
	seen := map[string]bool{}
	for _, r := range u.requests() {
		assert.False(t, seen[r.ClientContext], "duplicate clientContext %q", r.ClientContext)
		seen[r.ClientContext] = true
		assert.NoError(t, graph.ValidateClientContext(r.ClientContext))
	}
	assert.Len(t, seen, 100)
}

func TestBadClientContextGeneratorSendsNothing(t *testing.T) {
	for _, cc := range []string{"", strings.Repeat("é", graph.MaxClientContextLen+1)} {
		u := &fakeUpdater{}
		m := newMachine(t, u, fsm.WithClientContexts(func() string { return cc }))
		_, err := m.Start(context.Background())
		assert.ErrorIs(t, err, graph.ErrInvalidClientContext)
		assert.Empty(t, u.requests())
		assert.Equal(t, fsm.NotRecording, m.State())
	}
	// Exactly 256 characters (512 bytes) is allowed.
	u := &fakeUpdater{}
	m := newMachine(t, u, fsm.WithClientContexts(func() string { return strings.Repeat("é", graph.MaxClientContextLen) }))
	_, err := m.Start(context.Background())
	assert.NoError(t, err)
}

// A generator that repeats a value (the call ID, a constant: a bug found by
// writing bots from the user's side) fails the request that would carry
// the repeat, before it is sent, and the gate stays closed.
func TestRepeatingClientContextGeneratorIsRefused(t *testing.T) {
	u := &fakeUpdater{}
	m := newMachine(t, u, fsm.WithClientContexts(func() string { return callID }))
	ctx := context.Background()
	_, err := m.Start(ctx)
	require.NoError(t, err)
	err = m.Stop(ctx)
	require.ErrorIs(t, err, graph.ErrInvalidClientContext)
	assert.Contains(t, err.Error(), "an earlier request of this call carried")
	assert.Len(t, u.requests(), 1, "the repeat was not sent")
	assert.False(t, m.Gate().IsOpen())
}

func contains(ts []fsm.Trigger, t fsm.Trigger) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}
