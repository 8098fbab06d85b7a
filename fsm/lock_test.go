package fsm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// watchdog bounds every wait of these tests: a call that does not return
// within it fails the test with its name instead of hanging the run.
const watchdog = 5 * time.Second

// returnsWithin runs fn and fails the test, naming what hung, if it does
// not return within d.
func returnsWithin(t *testing.T, d time.Duration, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("hung: %s did not return within %v", what, d)
	}
}

// hungStart starts a machine whose first request (Start's recording) blocks
// until the returned release is called; the Updater ignores its context, as
// a hung server behind a careless client would. It returns once the request
// is in flight, with Start's result on the channel.
func hungStart(t *testing.T, first graph.OperationStatus, opts ...fsm.Option) (*fsm.Machine, *fakeUpdater, func(), <-chan error) {
	t.Helper()
	block := make(chan struct{})
	u := (&fakeUpdater{started: make(chan struct{}, 4)}).then(reply{Status: first, Block: block})
	m := newMachine(t, u, opts...)
	started := make(chan error, 1)
	go func() {
		_, err := m.Start(context.Background())
		started <- err
	}()
	select {
	case <-u.started:
	case <-time.After(watchdog):
		t.Fatal("hung: Start's request never reached the Updater")
	}
	released := false
	release := func() {
		if !released {
			released = true
			close(block)
		}
	}
	t.Cleanup(release)
	return m, u, release, started
}

// deadlineErr asserts err is the lock's give-up error for ctx's deadline.
func deadlineErr(t *testing.T, err error, trigger string) {
	t.Helper()
	require.Error(t, err, "%s returned nil while another transition held the machine", trigger)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, fsm.ErrMachineBusy)
	assert.Contains(t, err.Error(), trigger)
}

// A Stop with a 50 ms deadline, behind a Start whose request hangs, returns
// DeadlineExceeded promptly, with the gate closed and nothing reported; once
// the request returns, the late completed does not open the gate and Stop
// can report.
func TestStopGivesUpWhileStartHangs(t *testing.T) {
	m, u, release, started := hungStart(t, graph.OperationCompleted)
	var err error
	begin := time.Now()
	returnsWithin(t, watchdog, "Stop with a 50 ms deadline behind a hung Start", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = m.Stop(ctx)
	})
	deadlineErr(t, err, "Stop")
	assert.Less(t, time.Since(begin), time.Second, "Stop returned, but not promptly")
	assert.False(t, m.Gate().IsOpen(), "the gate closes before Stop waits")
	assert.Equal(t, []graph.Status{graph.StatusRecording}, u.statuses(), "nothing reported")

	release()
	returnsWithin(t, watchdog, "the released Start", func() { err = <-started })
	assert.ErrorIs(t, err, fsm.ErrSuperseded, "the Stop that gave up still superseded the Start")
	assert.False(t, m.Gate().IsOpen())
	returnsWithin(t, watchdog, "the second Stop", func() { err = m.Stop(context.Background()) })
	require.NoError(t, err)
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
}

func TestFailGivesUpWhileStartHangs(t *testing.T) {
	m, u, _, _ := hungStart(t, graph.OperationCompleted)
	var err error
	returnsWithin(t, watchdog, "Fail with a 50 ms deadline behind a hung Start", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = m.Fail(ctx)
	})
	deadlineErr(t, err, "Fail")
	assert.False(t, m.Gate().IsOpen())
	assert.Len(t, u.requests(), 1, "nothing reported")
}

// A second Start behind a hung one gives up; nothing is sent for it.
func TestStartGivesUpWhileAnotherStartHangs(t *testing.T) {
	m, u, _, _ := hungStart(t, graph.OperationCompleted)
	var err error
	returnsWithin(t, watchdog, "Start with a 50 ms deadline behind a hung Start", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = m.Start(ctx)
	})
	deadlineErr(t, err, "Start")
	assert.Len(t, u.requests(), 1, "the Start that gave up sent nothing")
}

// An OperationUpdate (say, Graph's completed notification that overtook
// the reply) gives up when its context is cancelled behind a hung Start.
func TestOperationUpdateGivesUpWhileStartHangs(t *testing.T) {
	m, _, _, _ := hungStart(t, graph.OperationRunning)
	var err error
	returnsWithin(t, watchdog, "OperationUpdate with a cancelled context behind a hung Start", func() {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		err = m.OperationUpdate(ctx, graph.Operation{ClientContext: "whatever", Status: graph.OperationCompleted})
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, fsm.ErrMachineBusy)
	assert.False(t, m.Gate().IsOpen())
}

// CallEnded behind a hung request gives up too, but the machine still ends:
// the gate is closed for good at once, and the move to Ended (and the
// registry's forgetting) happens when the request returns.
func TestCallEndedGivesUpButTheMachineEnds(t *testing.T) {
	ended := make(chan struct{})
	m, u, release, started := hungStart(t, graph.OperationCompleted, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventTransition && e.To == fsm.Ended {
			close(ended)
		}
	}))
	var err error
	returnsWithin(t, watchdog, "CallEnded with a 50 ms deadline behind a hung Start", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = m.CallEnded(ctx)
	})
	deadlineErr(t, err, "CallEnded")
	assert.False(t, m.Gate().IsOpen())

	release()
	returnsWithin(t, watchdog, "the released Start", func() { err = <-started })
	assert.Error(t, err)
	select {
	case <-ended:
	case <-time.After(watchdog):
		t.Fatal("hung: the machine never reached Ended after the request returned")
	}
	assert.Equal(t, fsm.Ended, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.Len(t, u.requests(), 1)
}
