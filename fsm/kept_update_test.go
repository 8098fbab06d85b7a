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

// Graph's completed notification overtakes a slow reply saying running:
// the update gives up waiting (the handler's deadline), is kept, and opens
// the gate as soon as the reply has made the attempt pending. It used to
// be dropped, and the attempt failed at the confirmation deadline.
func TestOperationUpdateOvertakingASlowReplyIsKept(t *testing.T) {
	opened := make(chan struct{})
	m, u, release, started := hungStart(t, graph.OperationRunning, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			close(opened)
		}
	}))
	cc := u.requests()[0].ClientContext
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var err error
	returnsWithin(t, watchdog, "OperationUpdate with a 20 ms deadline behind a hung Start", func() {
		err = m.OperationUpdate(ctx, graph.Operation{ClientContext: cc, Status: graph.OperationCompleted})
	})
	assert.ErrorIs(t, err, fsm.ErrMachineBusy)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "kept")
	assert.False(t, m.Gate().IsOpen())

	release()
	require.NoError(t, returnOf(t, started, "Start after its request was released"), "Start's reply said running: pending, no error")
	waitFor(t, opened, "the kept completed opening the gate")
	assert.Equal(t, fsm.Recording, m.State())
}

// A kept update is matched against the attempt pending when it is applied:
// one for another attempt changes nothing.
func TestAKeptUpdateForAnotherAttemptChangesNothing(t *testing.T) {
	applied := make(chan fsm.Event, 1)
	m, _, release, started := hungStart(t, graph.OperationRunning, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventUpdate {
			applied <- e
		}
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := m.OperationUpdate(ctx, graph.Operation{ClientContext: "another-attempt", Status: graph.OperationCompleted})
	assert.ErrorIs(t, err, fsm.ErrMachineBusy)
	release()
	require.NoError(t, <-started)
	select {
	case e := <-applied:
		assert.ErrorIs(t, e.Err, fsm.ErrStaleUpdate)
	case <-time.After(watchdog):
		t.Fatal("hung: the kept update was never looked at")
	}
	assert.False(t, m.Gate().IsOpen())
	assert.Equal(t, fsm.AwaitingConfirmation, m.State())
}

// At most MaxWaitingUpdates wait; the next is dropped, and says so.
func TestKeptUpdatesAreBounded(t *testing.T) {
	m, _, release, started := hungStart(t, graph.OperationRunning)
	for i := 0; i <= fsm.MaxWaitingUpdates; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := m.OperationUpdate(ctx, graph.Operation{ClientContext: "x", Status: graph.OperationRunning})
		assert.ErrorIs(t, err, fsm.ErrMachineBusy)
		if i < fsm.MaxWaitingUpdates {
			assert.Contains(t, err.Error(), "kept", "update %d", i)
		} else {
			assert.Contains(t, err.Error(), "dropped", "update %d", i)
		}
	}
	release()
	require.NoError(t, <-started)
}
