package fsm_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// *graph.Client is the Updater the machine is built for.
var _ fsm.Updater = (*graph.Client)(nil)

// The machine through the real HTTP client and the fake Graph: the fake's
// request log shows recording confirmed before the first persisted byte and
// notRecording sent after the last.
func TestEndToEndThroughClientAndFake(t *testing.T) {
	s := graphtest.NewServer(graphtest.WithToken("tok"))
	defer s.Close()
	fc := s.AddCall(callID).Then(graphtest.Throttle("0"), graphtest.ReplyStatus("running"))
	client, err := graph.NewClient(graph.StaticToken("tok"), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()),
		graph.WithBackoff(time.Millisecond, time.Millisecond))
	require.NoError(t, err)

	var file bytes.Buffer
	var firstWrite, lastWrite, hookAt time.Time
	m := newMachine(t, client, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		hookAt = time.Now()
		return nil
	}))
	w := m.Gate().Writer(&file)
	write := func(p string) error {
		_, err := w.Write([]byte(p))
		if err == nil {
			if firstWrite.IsZero() {
				firstWrite = time.Now()
			}
			lastWrite = time.Now()
		}
		return err
	}
	ctx := context.Background()

	// A 429, retried, then a pending reply: the gate stays closed.
	op, err := m.Start(ctx)
	require.NoError(t, err)
	assert.Equal(t, fsm.AwaitingConfirmation, m.State())
	assert.True(t, errors.Is(write("early"), fsm.ErrGateClosed))

	// Graph completes the operation; the bot learns it (here by polling the
	// trusted Location; in production from a notification).
	require.NoError(t, fc.SetOperationStatus(op.ID, graph.OperationCompleted))
	got, err := client.Operation(ctx, callID, op)
	require.NoError(t, err)
	require.NoError(t, m.OperationUpdate(ctx, got))
	require.Equal(t, fsm.Recording, m.State())
	require.NoError(t, write("frame-1 "))
	require.NoError(t, write("frame-2 "))

	require.NoError(t, m.Stop(ctx))
	assert.True(t, errors.Is(write("late"), fsm.ErrGateClosed))
	require.NoError(t, m.CallEnded(ctx))
	assert.Equal(t, "frame-1 frame-2 ", file.String())

	var confirmedAt, notRecordingAt time.Time
	var statuses []string
	for _, r := range s.Requests() {
		statuses = append(statuses, r.Method+" "+r.Status+" "+r.OperationStatus)
		if r.Method == "GET" && r.OperationStatus == "completed" {
			confirmedAt = r.Time
		}
		if r.Status == "notRecording" {
			notRecordingAt = r.Time
		}
	}
	assert.Equal(t, []string{"POST recording ", "POST recording running", "GET  completed", "POST notRecording completed"}, statuses)
	assert.True(t, confirmedAt.Before(firstWrite), "completed before the first write")
	assert.True(t, lastWrite.Before(hookAt), "the hook ran after the last write")
	assert.True(t, hookAt.Before(notRecordingAt), "notRecording after the hook")
}

// Policy refusal (8506) through the real client: the machine stays closed
// and the error says what to check.
func TestEndToEndNonCompliance(t *testing.T) {
	s := graphtest.NewServer()
	defer s.Close()
	s.AddCall(callID).NonCompliance()
	client, err := graph.NewClient(graph.StaticToken("tok"), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	m := newMachine(t, client)
	_, err = m.Start(context.Background())
	var ge *graph.Error
	require.ErrorAs(t, err, &ge)
	assert.True(t, ge.NonCompliance())
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.Len(t, s.Requests(), 1, "never retried")
}
