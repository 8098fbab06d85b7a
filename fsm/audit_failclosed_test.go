package fsm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// failingTrail accepts writes until the failAt-th (counting from 1), and
// fails that one and every later one. It syncs when asked, noting each
// sync's last line and whether the gate was open then.
type failingTrail struct {
	mu     sync.Mutex
	failAt int
	writes int
	buf    bytes.Buffer
	last   string
	gate   *fsm.Gate
	syncs  []syncSeen
}

type syncSeen struct {
	kind     fsm.EventKind
	open     *bool // the record's gateOpen
	gateOpen bool  // the gate's state at the sync
}

var errDiskFull = errors.New("disk full")

func (w *failingTrail) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if w.failAt > 0 && w.writes >= w.failAt {
		return 0, errDiskFull
	}
	w.last = string(p)
	return w.buf.Write(p)
}

func (w *failingTrail) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var r fsm.AuditRecord
	if err := json.Unmarshal([]byte(w.last), &r); err != nil {
		return err
	}
	seen := syncSeen{kind: r.Kind, open: r.GateOpen}
	if w.gate != nil {
		seen.gateOpen = w.gate.IsOpen()
	}
	w.syncs = append(w.syncs, seen)
	return nil
}

// stopWatcher signals when the machine has reported notRecording
// (a transition to NotRecording by Stop). It is the machine's one observer
// (WithObserver keeps only the last).
func stopWatcher() (fsm.Option, <-chan struct{}) {
	done := make(chan struct{})
	var once sync.Once
	return fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventTransition && e.To == fsm.NotRecording && e.Trigger == fsm.Stop {
			once.Do(func() { close(done) })
		}
	}), done
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("watchdog: %s did not happen within 10 s", what)
	}
}

// A trail that cannot be written before Start: nothing is asked of Graph
// and the gate stays closed.
func TestFailClosedRefusesStartWithoutATrail(t *testing.T) {
	w := &failingTrail{failAt: 1}
	u := &fakeUpdater{}
	m := newMachine(t, u, fsm.WithAuditTrail(w))
	_, err := m.Start(context.Background())
	require.ErrorIs(t, err, fsm.ErrAuditTrail)
	assert.ErrorIs(t, err, errDiskFull)
	assert.Empty(t, u.requests(), "no recording request without its evidence")
	assert.False(t, m.Gate().IsOpen())
	assert.ErrorIs(t, m.AuditErr(), errDiskFull)
}

// The write of what authorises the gate (the 3rd record: request, reply,
// authorized) fails: the gate never opens, and the machine stops through
// the normal path: hook, then notRecording.
func TestFailClosedGateNeverOpensWithoutItsRecord(t *testing.T) {
	w := &failingTrail{failAt: 3}
	u := &fakeUpdater{}
	var opened bool
	var order []string
	var mu sync.Mutex
	stopped := make(chan struct{})
	m := newMachine(t, u, fsm.WithAuditTrail(w), fsm.WithObserver(func(e fsm.Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Kind == fsm.EventTransition && e.To == fsm.NotRecording && e.Trigger == fsm.Stop {
			close(stopped)
		}
		if e.Kind == fsm.EventGate && e.Open {
			opened = true
		}
		if e.Kind == fsm.EventTransition && e.To == fsm.NotRecording {
			order = append(order, "notRecording accepted")
		}
	}), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		mu.Lock()
		order = append(order, "hook")
		mu.Unlock()
		return nil
	}))
	_, err := m.Start(context.Background())
	require.ErrorIs(t, err, fsm.ErrAuditTrail, "Start says the trail failed, not that it was superseded")
	waitFor(t, stopped, "the Stop started by the failed audit write")
	mu.Lock()
	defer mu.Unlock()
	assert.False(t, opened, "the gate opened although its record could not be written")
	assert.Equal(t, []string{"hook", "notRecording accepted"}, order)
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
	assert.Equal(t, fsm.NotRecording, m.State())
}

// A write fails while the gate is open (the 6th record: an ignored update
// after request, reply, authorized, gate open, transition): the machine
// closes the gate through Stop, and refuses to record again.
func TestFailClosedOpenGateClosesThroughStop(t *testing.T) {
	w := &failingTrail{failAt: 6}
	u := &fakeUpdater{}
	watch, stopped := stopWatcher()
	hookRan := make(chan struct{})
	m := newMachine(t, u, fsm.WithAuditTrail(w), watch, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		close(hookRan)
		return nil
	}))
	ctx := context.Background()
	_, err := m.Start(ctx)
	require.NoError(t, err)
	media := m.Gate().Writer(&bytes.Buffer{})
	_, err = media.Write([]byte("frame"))
	require.NoError(t, err, "the gate is open while the trail is written")
	_ = m.OperationUpdate(ctx, graph.Operation{ID: "op-x", ClientContext: "someone-else", Status: graph.OperationCompleted})
	waitFor(t, stopped, "the Stop started by the failed audit write")
	waitFor(t, hookRan, "the recording-ended hook")
	_, err = media.Write([]byte("frame"))
	assert.ErrorIs(t, err, fsm.ErrGateClosed)
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
	_, err = m.Start(ctx)
	assert.ErrorIs(t, err, fsm.ErrAuditTrail)
	assert.Len(t, u.requests(), 2, "no recording request once the trail failed")
	// What was written before the failure still verifies.
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(w.buf.Bytes()))
	require.NoError(t, err)
	assert.Len(t, recs, 5)
}

// AuditBestEffort keeps the old behaviour: recording goes on.
func TestAuditBestEffortKeepsRecording(t *testing.T) {
	w := &failingTrail{failAt: 1}
	m := newMachine(t, &fakeUpdater{}, fsm.WithAuditTrail(w, fsm.AuditBestEffort()))
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	assert.True(t, m.Gate().IsOpen())
	assert.ErrorIs(t, m.AuditErr(), errDiskFull)
}

// The records that open and close the gate are synced, and what authorises
// the gate is on disk before the gate opens.
func TestAuditTrailSyncsGateRecords(t *testing.T) {
	w := &failingTrail{}
	u := (&fakeUpdater{}).then(reply{Status: graph.OperationRunning})
	m := newMachine(t, u, fsm.WithAuditTrail(w), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }))
	w.gate = m.Gate()
	ctx := context.Background()
	op, err := m.Start(ctx)
	require.NoError(t, err)
	op.Status = graph.OperationCompleted
	require.NoError(t, m.OperationUpdate(ctx, op))
	require.NoError(t, m.Stop(ctx))
	require.NoError(t, m.CallEnded(ctx))
	var got []string
	for _, s := range w.syncs {
		step := string(s.kind)
		if s.open != nil {
			step += map[bool]string{true: ":open", false: ":closed"}[*s.open]
		}
		got = append(got, step)
		if s.kind == fsm.EventAuthorized {
			assert.False(t, s.gateOpen, "the authorized record was synced after the gate opened")
		}
	}
	assert.Equal(t, []string{
		"request", "reply", // recording, running
		"authorized", "gate:open", // the completed update is synced with the authorization
		"gate:closed", "request", "reply", // Stop: notRecording
		"gate:closed", "transition", // CallEnded
	}, got)
}

// A completed reply reaches the disk with the authorized record's Sync,
// which comes before the gate opens: one Sync fewer on the way to the gate,
// and the reply is still durable before anything acts on it.
func TestAuditTrailSyncsACompletedReplyWithItsAuthorization(t *testing.T) {
	w := &failingTrail{}
	m := newMachine(t, &fakeUpdater{}, fsm.WithAuditTrail(w))
	w.gate = m.Gate()
	_, err := m.Start(context.Background())
	require.NoError(t, err)
	var got []string
	for _, s := range w.syncs {
		got = append(got, string(s.kind))
		if s.kind == fsm.EventAuthorized {
			assert.False(t, s.gateOpen, "the authorized record was synced after the gate opened")
		}
	}
	assert.Equal(t, []string{"request", "authorized", "gate"}, got)
	w.mu.Lock()
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(w.buf.Bytes()))
	w.mu.Unlock()
	require.NoError(t, err)
	reply, authorized := -1, -1
	for i, r := range recs {
		switch r.Kind {
		case fsm.EventReply:
			reply = i
		case fsm.EventAuthorized:
			authorized = i
		}
	}
	assert.True(t, reply >= 0 && reply < authorized, "the reply is written before the authorization (reply %d, authorized %d)", reply, authorized)
}

// WithAuditTrail refuses a nil audit option.
func TestWithAuditTrailRejectsNilOption(t *testing.T) {
	_, err := fsm.New(callID, &fakeUpdater{}, fsm.WithAuditTrail(&bytes.Buffer{}, nil))
	assert.Error(t, err)
}
