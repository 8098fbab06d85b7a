package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// R2 ordering: a writer holding a lease delays the notRecording request;
// the hook runs after the lease is released and before the request.
func TestLeaseDelaysNotRecording(t *testing.T) {
	var hookAt atomic.Int64
	m, u := reach(t, fsm.Recording, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		hookAt.Store(time.Now().UnixNano())
		return nil
	}))
	lease, err := m.Gate().NewStream().Acquire()
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() { done <- m.Stop(context.Background()) }()

	// The gate closes at once...
	require.Eventually(t, func() bool { return !m.Gate().IsOpen() }, time.Second, time.Millisecond)
	// ...but nothing is reported while the lease is held.
	time.Sleep(20 * time.Millisecond)
	assert.Equal(t, []graph.Status{graph.StatusRecording}, u.statuses())
	assert.Zero(t, hookAt.Load(), "hook must wait for the lease")
	select {
	case err := <-done:
		t.Fatalf("Stop returned while a lease was held: %v", err)
	default:
	}

	released := time.Now().UnixNano()
	require.True(t, lease.Release())
	require.NoError(t, <-done)

	reqs := u.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, graph.StatusNotRecording, reqs[1].Status)
	assert.GreaterOrEqual(t, hookAt.Load(), released, "hook ran after the lease was released")
	assert.GreaterOrEqual(t, reqs[1].At.UnixNano(), hookAt.Load(), "notRecording sent after the hook returned")
}

func TestStopContextEndsWhileLeaseHeld(t *testing.T) {
	m, u := reach(t, fsm.Recording)
	lease, err := m.Gate().NewStream().Acquire()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err = m.Stop(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, fsm.Recording, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.Equal(t, []graph.Status{graph.StatusRecording}, u.statuses(), "nothing reported while a lease is held")
	lease.Release()
	require.NoError(t, m.Stop(context.Background()))
	assert.Equal(t, fsm.NotRecording, m.State())
}

// CallEnded during an in-flight start: the request's late success must not
// open the gate, whether or not the updater honours cancellation.
func TestCallEndedDuringInflightStartNeverOpens(t *testing.T) {
	release := make(chan struct{})
	u := (&fakeUpdater{started: make(chan struct{}, 1)}).then(reply{Status: graph.OperationCompleted, Block: release})
	var opened atomic.Bool
	closedForGood := make(chan struct{}, 1) // CallEnded closed the gate (before it waits for the lock)
	m := newMachine(t, u, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && e.Open {
			opened.Store(true)
		}
		if e.Kind == fsm.EventGate && !e.Open && e.Trigger == fsm.CallEnded {
			select {
			case closedForGood <- struct{}{}:
			default:
			}
		}
	}))
	startErr := make(chan error, 1)
	go func() { _, err := m.Start(context.Background()); startErr <- err }()
	<-u.started

	ended := make(chan error, 1)
	go func() { ended <- m.CallEnded(context.Background()) }()
	select {
	case <-closedForGood:
	case <-time.After(10 * time.Second):
		t.Fatal("hung: CallEnded never closed the gate while Start's request was in flight")
	}
	close(release) // Graph's "completed" arrives after the call ended

	assert.ErrorIs(t, <-startErr, fsm.ErrSuperseded)
	require.NoError(t, <-ended)
	assert.Equal(t, fsm.Ended, m.State())
	assert.False(t, m.Gate().IsOpen())
	assert.False(t, opened.Load(), "the gate never opened")
	assert.Equal(t, []graph.Status{graph.StatusRecording}, u.statuses())
}

// CallEnded does not wait behind a request that honours cancellation: it
// cancels it.
func TestCallEndedCancelsInflightRequest(t *testing.T) {
	type key struct{}
	parents := map[string]func() (context.Context, context.CancelFunc){
		"background": func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
		"values only": func() (context.Context, context.CancelFunc) {
			return context.WithValue(context.Background(), key{}, "v"), func() {}
		},
		"cancellable": func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Minute)
		},
	}
	for name, parent := range parents {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := parent()
			defer cancel()
			started := make(chan struct{})
			var sawValue atomic.Value
			u := fsm.UpdaterFunc(func(rctx context.Context, _ string, _ graph.Status, _ string) (graph.Operation, error) {
				sawValue.Store(fmt.Sprint(rctx.Value(key{})))
				close(started)
				<-rctx.Done()
				return graph.Operation{}, rctx.Err()
			})
			m := newMachine(t, u)
			startErr := make(chan error, 1)
			go func() { _, err := m.Start(ctx); startErr <- err }()
			<-started
			require.NoError(t, m.CallEnded(context.Background()))
			assert.ErrorIs(t, <-startErr, context.Canceled)
			assert.Equal(t, fsm.Ended, m.State())
			if name != "background" {
				assert.Equal(t, "v", sawValue.Load(), "the caller's values reach the updater")
			}
		})
	}
}

// A Stop issued while Start's request is in flight supersedes it; the late
// completed never opens the gate and notRecording goes out after recording's
// reply (never before it: no lost update).
func TestStopDuringInflightStart(t *testing.T) {
	release := make(chan struct{})
	u := (&fakeUpdater{started: make(chan struct{}, 2)}).then(reply{Status: graph.OperationCompleted, Block: release})
	var events []fsm.Event
	var mu sync.Mutex
	stopClosed := make(chan struct{}, 1) // Stop closed the gate (before it waits for the lock)
	m := newMachine(t, u, fsm.WithObserver(func(e fsm.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
		if e.Kind == fsm.EventGate && !e.Open && e.Trigger == fsm.Stop {
			select {
			case stopClosed <- struct{}{}:
			default:
			}
		}
	}))
	startErr := make(chan error, 1)
	go func() { _, err := m.Start(context.Background()); startErr <- err }()
	<-u.started
	stopErr := make(chan error, 1)
	go func() { stopErr <- m.Stop(context.Background()) }()
	select {
	case <-stopClosed:
	case <-time.After(10 * time.Second):
		t.Fatal("hung: Stop never closed the gate while Start's request was in flight")
	}
	close(release)
	assert.ErrorIs(t, <-startErr, fsm.ErrSuperseded)
	require.NoError(t, <-stopErr)
	assert.Equal(t, fsm.NotRecording, m.State())
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
	mu.Lock()
	defer mu.Unlock()
	var replyAt, stopReqAt int
	for i, e := range events {
		assert.False(t, e.Kind == fsm.EventGate && e.Open, "gate opened")
		if e.Kind == fsm.EventReply && e.Status == graph.StatusRecording {
			replyAt = i
		}
		if e.Kind == fsm.EventRequest && e.Status == graph.StatusNotRecording {
			stopReqAt = i
		}
	}
	assert.Less(t, replyAt, stopReqAt)
}

// A second Start asked while one is in flight, and then a Stop, never sends
// a request: whichever of the two gets the machine first once the Start in
// flight returns (the second Start finds it AwaitingConfirmation, or finds
// its epoch superseded by the Stop), the only requests are that Start's
// recording and the Stop's notRecording. (Which order the lock picks is
// not under the test's control; the model checker explores both.)
func TestStartSupersededBeforeSending(t *testing.T) {
	release := make(chan struct{})
	u := (&fakeUpdater{started: make(chan struct{}, 3)}).then(reply{Status: graph.OperationRunning, Block: release})
	m := newMachine(t, u)
	first := make(chan error, 1)
	go func() { _, err := m.Start(context.Background()); first <- err }()
	<-u.started // the first Start holds the machine, its request out
	second := make(chan error, 1)
	go func() { _, err := m.Start(context.Background()); second <- err }()
	waitUntilWaitingForTheMachine(t, "(*Machine).Start", 1)
	stopDone := make(chan error, 1)
	go func() { stopDone <- m.Stop(context.Background()) }()
	waitUntilWaitingForTheMachine(t, "(*Machine).stop", 1)
	close(release)
	require.NoError(t, <-first)
	require.NoError(t, <-stopDone)
	require.Error(t, <-second, "the second Start, asked before the Stop, must not go on after it")
	assert.Equal(t, []graph.Status{graph.StatusRecording, graph.StatusNotRecording}, u.statuses())
	assert.False(t, m.Gate().IsOpen())
}

// waitUntilWaitingForTheMachine waits until n goroutines are inside fn and
// waiting for the machine's lock, with a watchdog that names what hung.
func waitUntilWaitingForTheMachine(t *testing.T, fn string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		found := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, fn) && strings.Contains(g, "(*Machine).lock") {
				found++
			}
		}
		if found >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("hung: no goroutine in %s waited for the machine's lock within 10 s", fn)
		}
		runtime.Gosched()
	}
}

// The stress test: writers on several streams persist frames while a
// controller starts and stops at random and the call ends at a random time.
// One shared log orders Graph requests, replies and persisted writes; every
// write must fall inside a confirmed interval (P1), and no notRecording may
// precede a write of its interval (P2).
func TestConcurrentWritersAndController(t *testing.T) {
	const streams = 4
	writes := 0
	for round := 0; round < 20; round++ {
		var (
			mu  sync.Mutex
			log []string
		)
		record := func(s string) { mu.Lock(); log = append(log, s); mu.Unlock() }
		u := fsm.UpdaterFunc(func(_ context.Context, _ string, st graph.Status, cc string) (graph.Operation, error) {
			record("request:" + st.String())
			time.Sleep(time.Duration(rand.Intn(200)) * time.Microsecond)
			status := graph.OperationCompleted
			if st == graph.StatusRecording && rand.Intn(4) == 0 {
				status = graph.OperationRunning
			}
			if rand.Intn(8) == 0 {
				record("reply:error")
				return graph.Operation{}, errHTTP
			}
			record("reply:" + st.String() + ":" + status.String())
			return graph.Operation{ClientContext: cc, Status: status}, nil
		})
		m := newMachine(t, u)
		ctx := context.Background()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < streams; i++ {
			s := m.Gate().NewStream()
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					l, err := s.Acquire()
					if err == nil {
						record("write")
						time.Sleep(time.Duration(rand.Intn(100)) * time.Microsecond) // the write takes time
						record("write")
						l.Release()
					} else if !errors.Is(err, fsm.ErrGateClosed) {
						t.Errorf("acquire: %v", err)
						return
					}
					time.Sleep(20 * time.Microsecond)
				}
			}()
		}
		var cwg sync.WaitGroup
		for c := 0; c < 2; c++ {
			cwg.Add(1)
			go func() {
				defer cwg.Done()
				for i := 0; i < 30; i++ {
					switch rand.Intn(4) {
					case 0, 1:
						_, _ = m.Start(ctx)
					case 2:
						_ = m.Stop(ctx)
					case 3:
						_ = m.Fail(ctx)
					}
					time.Sleep(time.Duration(rand.Intn(400)) * time.Microsecond)
				}
			}()
		}
		time.AfterFunc(time.Duration(2000+rand.Intn(20000))*time.Microsecond, func() { _ = m.CallEnded(ctx); record("ended") })
		cwg.Wait()
		require.NoError(t, m.CallEnded(ctx))
		close(stop)
		wg.Wait()
		assert.Equal(t, fsm.Ended, m.State())

		mu.Lock()
		confirmed, ended := false, false
		for i, e := range log {
			switch e {
			case "reply:recording:completed":
				confirmed = !ended
			case "request:notRecording", "request:failed":
				confirmed = false
			case "ended":
				ended, confirmed = true, false
			case "write":
				writes++
				if !confirmed {
					t.Fatalf("round %d: write at %d outside a confirmed recording; log tail %v", round, i, log[max(0, i-8):i+1])
				}
			}
			if ended && (e == "request:recording" || e == "request:notRecording" || e == "request:failed") {
				t.Fatalf("round %d: request after the call ended: %v", round, log[max(0, i-8):i+1])
			}
		}
		mu.Unlock()
	}
	assert.Positive(t, writes, "the writers never got through: the test checked nothing")
}
