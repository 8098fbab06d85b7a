package roundthree

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// TestSharedStreamIsBusyWhileStopDrains shows, on fsm alone, that the
// SharedStreamWritesOnBusy bug is real although the suite never plays it:
// while Stop has closed the gate and waits for one goroutine's lease on a
// shared Stream, a second goroutine's Acquire says ErrStreamBusy, not
// ErrGateClosed. The bot writes on that answer: a write that begins after
// the gate closed, under no lease, which Stop does not wait for once the
// first lease is released.
func TestSharedStreamIsBusyWhileStopDrains(t *testing.T) {
	var reports atomic.Int64
	updater := fsm.UpdaterFunc(func(_ context.Context, _ string, status graph.Status, cc string) (graph.Operation, error) {
		if status != graph.StatusRecording {
			reports.Add(1)
		}
		return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
	})
	closed := make(chan struct{}, 1)
	m, err := fsm.New("57dab8b1-894c-409a-b240-bd8beae78896", updater, fsm.WithObserver(func(e fsm.Event) {
		if e.Kind == fsm.EventGate && !e.Open {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	shared := m.Gate().NewStream()
	first, err := shared.Acquire() // one media goroutine is in its write
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(ctx) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not close the gate within 5s")
	}

	_, err = shared.Acquire() // the other media goroutine
	if !errors.Is(err, fsm.ErrStreamBusy) || m.Gate().IsOpen() {
		t.Fatalf("Acquire on the shared stream while Stop drains: %v, gate open %v; want ErrStreamBusy with the gate closed", err, m.Gate().IsOpen())
	}
	if n := reports.Load(); n != 0 {
		t.Fatalf("notRecording sent while a lease was held (%d)", n)
	}
	// The bot's second write begins here, after the gate closed. Once the
	// first write releases its lease, Stop reports without waiting for it.
	first.Release()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return within 5s of the last lease's release")
	}
	if reports.Load() != 1 {
		t.Fatalf("notRecording sent %d times, want 1", reports.Load())
	}
}
