package fsm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A typed nil inside a non-nil Updater is refused at New, not found by a
// panic at the first Start.
func TestNewRefusesNilInsideUpdater(t *testing.T) {
	for name, u := range map[string]fsm.Updater{
		"UpdaterFunc(nil)":     fsm.UpdaterFunc(nil),
		"(*graph.Client)(nil)": (*graph.Client)(nil),
		"(*fakeUpdater)(nil)":  (*fakeUpdater)(nil),
	} {
		t.Run(name, func(t *testing.T) {
			m, err := fsm.New(callID, u)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorContains(t, err, "nil Updater")
		})
	}
}

// "." and ".." are path dot-segments: a front end that normalises paths
// would send updateRecordingStatus to another resource. New refuses them
// (through graph.ValidateCallID).
func TestNewRefusesDotSegmentCallIDs(t *testing.T) {
	for _, id := range []string{".", ".."} {
		_, err := fsm.New(id, &fakeUpdater{})
		assert.ErrorIs(t, err, graph.ErrInvalidCallID, "call ID %q", id)
	}
}

// foreignUpdater returns another attempt's operation: completed, with a
// clientContext the machine never sent.
type foreignUpdater struct{ clientContext string }

func (f foreignUpdater) UpdateRecordingStatus(_ context.Context, _ string, _ graph.Status, _ string) (graph.Operation, error) {
	return graph.Operation{ID: "op-other", ClientContext: f.clientContext, Status: graph.OperationCompleted}, nil
}

// A completed reply that names another clientContext is not a reply to
// this request: the gate stays closed and Start returns a RequestError
// naming both clientContexts.
func TestForeignReplyDoesNotOpenTheGate(t *testing.T) {
	m := newMachine(t, foreignUpdater{clientContext: "another-attempt"}, fsm.WithClientContexts(func() string { return "this-attempt" }))
	_, err := m.Start(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, fsm.ErrForeignReply)
	assert.ErrorIs(t, err, fsm.ErrNotConfirmed)
	var re *fsm.RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "this-attempt", re.ClientContext)
	assert.Equal(t, "another-attempt", re.Operation.ClientContext)
	assert.Contains(t, err.Error(), `"this-attempt"`)
	assert.Contains(t, err.Error(), `"another-attempt"`)
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.False(t, m.Gate().IsOpen())
}

// A reply without clientContext is the reply to the request the Updater was
// given (graph.Client accepts it too): it is trusted, and only completed
// opens the gate.
func TestReplyWithoutClientContextIsAccepted(t *testing.T) {
	m := newMachine(t, foreignUpdater{clientContext: ""})
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fsm.Recording, m.State())
	assert.True(t, m.Gate().IsOpen())
}

// The check covers every request, not only recording: a foreign reply to
// notRecording leaves the machine in Stopping, to be retried.
func TestForeignReplyToStopIsNotAccepted(t *testing.T) {
	cc := ""
	u := fsm.UpdaterFunc(func(_ context.Context, _ string, s graph.Status, sent string) (graph.Operation, error) {
		if s == graph.StatusNotRecording {
			sent = cc
		}
		return graph.Operation{ClientContext: sent, Status: graph.OperationCompleted}, nil
	})
	m := newMachine(t, u)
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	cc = "someone-else"
	err = m.Stop(context.Background())
	assert.ErrorIs(t, err, fsm.ErrForeignReply)
	assert.Equal(t, fsm.Stopping, m.State())
	assert.False(t, m.Gate().IsOpen())
	cc = ""
	require.NoError(t, m.Stop(context.Background()))
	assert.Equal(t, fsm.NotRecording, m.State())
}
