package fsm_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// A pending attempt that gets no outcome within the confirmation deadline
// ends with the gate closed, and the machine tells Graph failed, so the
// meeting does not show a recording that is not happening. A completed
// that arrives later is stale.
func ExampleWithConfirmationDeadline() {
	updater := fsm.UpdaterFunc(func(_ context.Context, _ string, status graph.Status, cc string) (graph.Operation, error) {
		fmt.Println("sent:", status)
		if status == graph.StatusRecording {
			return graph.Operation{ID: "op-1", ClientContext: cc, Status: graph.OperationRunning}, nil
		}
		return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
	})
	failed := make(chan struct{})
	m, err := fsm.New("call-1", updater,
		fsm.WithConfirmationDeadline(20*time.Millisecond), // the default is a minute
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventTransition && e.To == fsm.Failed {
				close(failed)
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	op, _ := m.Start(ctx)
	<-failed // no notification came in time

	op.Status = graph.OperationCompleted
	err = m.OperationUpdate(ctx, op)
	fmt.Println(m.State(), m.Gate().IsOpen(), errors.Is(err, fsm.ErrStaleUpdate))
	// Output:
	// sent: recording
	// sent: failed
	// Failed false true
}

// A Stop behind a transition whose Graph request hangs closes the gate at
// once and returns when its context ends, instead of waiting for the
// request; call Stop again later to report notRecording.
func ExampleMachine_Stop_deadline() {
	hung := make(chan struct{})
	inFlight := make(chan struct{})
	updater := fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		close(inFlight)
		<-hung // a Graph request that does not return
		return graph.Operation{ClientContext: cc, Status: graph.OperationCompleted}, nil
	})
	m, _ := fsm.New("call-1", updater)
	go func() { _, _ = m.Start(context.Background()) }()
	<-inFlight

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := m.Stop(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, fsm.ErrMachineBusy))
	fmt.Println("gate open:", m.Gate().IsOpen())
	close(hung)
	// Output:
	// true true
	// gate open: false
}
