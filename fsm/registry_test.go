package fsm_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

const (
	issuer = "https://api.botframework.com"
	tenant = "7b1f6e2c-0000-4000-8000-00000000abcd"
)

// ignoredLog counts what the registry ignored, by reason.
type ignoredLog struct {
	mu  sync.Mutex
	why map[fsm.IgnoreReason]int
}

func (l *ignoredLog) hook(_ graph.Notification, why fsm.IgnoreReason) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.why == nil {
		l.why = map[fsm.IgnoreReason]int{}
	}
	l.why[why]++
}

func (l *ignoredLog) count(why fsm.IgnoreReason) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.why[why]
}

// newRegistry builds a registry whose machines answer the first Start with
// running (so a notification must confirm it) and everything else with
// completed.
func newRegistry(t *testing.T, opts ...fsm.Option) (*fsm.Registry, *ignoredLog, *bytes.Buffer) {
	t.Helper()
	ign := &ignoredLog{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil))
	r, err := fsm.NewRegistry(func(id string) (*fsm.Machine, error) {
		return fsm.New(id, (&fakeUpdater{}).then(reply{Status: graph.OperationRunning}), opts...)
	}, fsm.WithIgnoredHook(ign.hook), fsm.WithRegistryLogger(logger))
	require.NoError(t, err)
	return r, ign, &logs
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func opNotification(call string, op graph.Operation) graph.Notification {
	return graph.Notification{Kind: graph.NotificationOperation, CallID: call, Operation: op, Issuer: issuer, Tenant: tenant,
		ResourceURL: "/communications/calls/" + call + "/operations/" + op.ID, Received: time.Now()}
}

func TestRegistryCreateGetRemove(t *testing.T) {
	r, _, _ := newRegistry(t)
	m, err := r.Create(callID)
	require.NoError(t, err)
	got, ok := r.Get(callID)
	require.True(t, ok)
	assert.Same(t, m, got)
	_, err = r.Create(callID)
	assert.ErrorIs(t, err, fsm.ErrCallExists)
	assert.Equal(t, 1, r.Len())
	assert.True(t, r.Remove(callID))
	assert.False(t, r.Remove(callID))
	_, ok = r.Get(callID)
	assert.False(t, ok)
	_, err = r.Create("a/b")
	assert.ErrorIs(t, err, graph.ErrInvalidCallID, "newMachine's error comes back")
}

func TestRegistryRefusesBadInput(t *testing.T) {
	_, err := fsm.NewRegistry(nil)
	assert.ErrorContains(t, err, "nil newMachine")
	ok := func(id string) (*fsm.Machine, error) { return fsm.New(id, &fakeUpdater{}) }
	for _, o := range []fsm.RegistryOption{nil, fsm.WithRegistryLogger(nil), fsm.WithIgnoredHook(nil)} {
		_, err = fsm.NewRegistry(ok, o)
		assert.Error(t, err)
	}
	shared, err := fsm.New(callID, &fakeUpdater{})
	require.NoError(t, err)
	for name, newMachine := range map[string]func(string) (*fsm.Machine, error){
		"nil machine":  func(string) (*fsm.Machine, error) { return nil, nil },
		"another call": func(string) (*fsm.Machine, error) { return fsm.New("another-call", &fakeUpdater{}) },
		"shared":       func(string) (*fsm.Machine, error) { return shared, nil },
	} {
		r, err := fsm.NewRegistry(newMachine)
		require.NoError(t, err)
		_, err = r.Create(callID)
		if name == "shared" {
			require.NoError(t, err, "the first registry may hold it")
			r2, rerr := fsm.NewRegistry(newMachine)
			require.NoError(t, rerr)
			_, err = r2.Create(callID)
		}
		assert.Error(t, err, name)
	}
}

// The pending flow: a notification's completed opens the gate, and the
// audit trail says it came by notification, vouched for by whom.
func TestRegistryNotificationConfirms(t *testing.T) {
	var trail bytes.Buffer
	r, ign, _ := newRegistry(t, fsm.WithAuditTrail(&trail))
	m, err := r.Create(callID)
	require.NoError(t, err)
	op, err := m.Start(context.Background())
	require.NoError(t, err)
	require.Equal(t, fsm.AwaitingConfirmation, m.State())

	op.Status = graph.OperationCompleted
	require.NoError(t, r.Notify(context.Background(), opNotification(callID, op)))
	assert.Equal(t, fsm.Recording, m.State())
	assert.True(t, m.Gate().IsOpen())

	// Graph delivers it again: ignored, nil, nothing changes.
	require.NoError(t, r.Notify(context.Background(), opNotification(callID, op)))
	assert.Equal(t, 1, ign.count(fsm.IgnoredStaleOperation))
	assert.True(t, m.Gate().IsOpen())

	recs, err := fsm.VerifyAuditTrail(&trail)
	require.NoError(t, err)
	var open *fsm.AuditRecord
	for i := range recs {
		if recs[i].GateOpen != nil && *recs[i].GateOpen {
			open = &recs[i]
		}
	}
	require.NotNil(t, open, "the trail records the gate opening")
	assert.Equal(t, "OperationUpdate", open.Trigger)
	assert.Equal(t, "notification", open.Via)
	assert.Equal(t, issuer, open.Issuer)
	assert.Equal(t, tenant, open.Tenant)
}

// Unknown calls, stale operations and unknown kinds are ignored: nil,
// logged, counted.
func TestRegistryIgnores(t *testing.T) {
	r, ign, logs := newRegistry(t)
	m, err := r.Create(callID)
	require.NoError(t, err)
	op, err := m.Start(context.Background())
	require.NoError(t, err)
	ctx := context.Background()

	assert.NoError(t, r.Notify(ctx, opNotification("unknown-call", graph.Operation{ID: "x", Status: graph.OperationCompleted})))
	assert.Equal(t, 1, ign.count(fsm.IgnoredUnknownCall))

	stale := graph.Operation{ID: "op-other", ClientContext: "another-attempt", Status: graph.OperationCompleted}
	assert.NoError(t, r.Notify(ctx, opNotification(callID, stale)))
	assert.Equal(t, 1, ign.count(fsm.IgnoredStaleOperation))

	weird := op
	weird.Status = "Exploded"
	assert.NoError(t, r.Notify(ctx, opNotification(callID, weird)))
	assert.Equal(t, 1, ign.count(fsm.IgnoredUnknownStatus))

	assert.NoError(t, r.Notify(ctx, graph.Notification{Kind: 99, CallID: callID}))
	assert.Equal(t, 1, ign.count(fsm.IgnoredUnknownKind))

	assert.Equal(t, fsm.AwaitingConfirmation, m.State(), "nothing ignored changed the machine")
	assert.False(t, m.Gate().IsOpen())
	for _, s := range []string{"unknown-call", "stale-operation", "unknown-status", "unknown-kind", tenant} {
		assert.Contains(t, logs.String(), s)
	}
}

// A refused attempt (failed) is applied, not ignored.
func TestRegistryNotificationRefuses(t *testing.T) {
	r, ign, _ := newRegistry(t)
	m, err := r.Create(callID)
	require.NoError(t, err)
	op, err := m.Start(context.Background())
	require.NoError(t, err)
	op.Status = graph.OperationFailed
	require.NoError(t, r.Notify(context.Background(), opNotification(callID, op)))
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.Zero(t, ign.count(fsm.IgnoredStaleOperation)+ign.count(fsm.IgnoredUnknownStatus))
}

// A terminated call ends its machine and the registry forgets it, whether
// the notification or the bot ends it.
func TestRegistryForgetsEndedCalls(t *testing.T) {
	r, _, _ := newRegistry(t)
	m, err := r.Create(callID)
	require.NoError(t, err)
	require.NoError(t, r.Notify(context.Background(), graph.Notification{Kind: graph.NotificationCallEnded, CallID: callID}))
	assert.Equal(t, fsm.Ended, m.State())
	_, ok := r.Get(callID)
	assert.False(t, ok)

	m, err = r.Create("second-call")
	require.NoError(t, err)
	require.NoError(t, m.CallEnded(context.Background()))
	_, ok = r.Get("second-call")
	assert.False(t, ok, "CallEnded called by the bot removes it too")
	assert.Zero(t, r.Len())
}

// Notify does not sit behind a machine whose lock a hung request holds: it
// returns when its context ends.
func TestRegistryNotifyReturnsBehindHungRequest(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	u := (&fakeUpdater{started: make(chan struct{}, 1)}).then(reply{Status: graph.OperationRunning, Block: block})
	r, err := fsm.NewRegistry(func(id string) (*fsm.Machine, error) { return fsm.New(id, u) })
	require.NoError(t, err)
	m, err := r.Create(callID)
	require.NoError(t, err)
	go func() { _, _ = m.Start(context.Background()) }()
	select {
	case <-u.started:
	case <-time.After(watchdog):
		t.Fatal("hung: Start's request never reached the Updater")
	}
	for _, n := range []graph.Notification{
		opNotification(callID, graph.Operation{ID: "op-1", Status: graph.OperationCompleted}),
		{Kind: graph.NotificationCallEnded, CallID: callID},
	} {
		returnsWithin(t, watchdog, "Registry.Notify("+n.Kind.String()+") behind a hung Start", func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err = r.Notify(ctx, n)
		})
		assert.ErrorIs(t, err, context.DeadlineExceeded, n.Kind.String())
		assert.ErrorIs(t, err, fsm.ErrMachineBusy, n.Kind.String())
	}
	assert.False(t, m.Gate().IsOpen())
	_, ok := r.Get(callID)
	assert.False(t, ok, "a terminated call is forgotten even while its machine is busy")
}

// Many goroutines create, notify, look up and end calls at once (run with
// -race).
func TestRegistryConcurrentUse(t *testing.T) {
	r, _, _ := newRegistry(t)
	const calls, notifiers = 40, 4
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		id := fmt.Sprintf("call-%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := r.Create(id)
			if !assert.NoError(t, err) {
				return
			}
			op, err := m.Start(context.Background())
			if !assert.NoError(t, err) {
				return
			}
			op.Status = graph.OperationCompleted
			var nw sync.WaitGroup
			for j := 0; j < notifiers; j++ { // Graph delivering the same notification more than once, concurrently
				nw.Add(1)
				go func() {
					defer nw.Done()
					assert.NoError(t, r.Notify(context.Background(), opNotification(id, op)))
					_, _ = r.Get(id)
					_ = r.Len()
				}()
			}
			nw.Wait()
			assert.Equal(t, fsm.Recording, m.State(), id)
			assert.NoError(t, r.Notify(context.Background(), graph.Notification{Kind: graph.NotificationCallEnded, CallID: id}))
		}()
	}
	returnsWithin(t, 4*watchdog, "the concurrent registry users", wg.Wait)
	assert.Zero(t, r.Len(), "every ended call was forgotten")
}
