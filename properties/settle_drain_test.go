package properties

import (
	"bytes"
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// settle tells fsm's own drain (which sleeps while it polls for leases)
// from a hook that sleeps on its own by the drain's function name: if fsm
// renames it, this fails, rather than every Stop that meets a write
// quietly paying maxSleepWait.
func TestFsmDrainFrameIsTheOneSettleLooksFor(t *testing.T) {
	m, err := fsm.New(suiteCallID, fsm.UpdaterFunc(func(_ context.Context, _ string, _ graph.Status, cc string) (graph.Operation, error) {
		return graph.Operation{ODataType: graph.OperationODataType, ID: "op", ClientContext: cc, Status: graph.OperationCompleted}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := m.Gate().NewStream()
	lease, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() { stopped <- m.Stop(context.Background()) }() // waits in the drain for the lease
	deadline := time.Now().Add(10 * time.Second)
	buf := make([]byte, 1<<20)
	for {
		if bytes.Contains(buf[:runtime.Stack(buf, true)], fsmDrain) {
			break
		}
		if time.Now().After(deadline) {
			lease.Release()
			t.Fatalf("watchdog: no goroutine's stack shows %s while Stop waits for a lease: fsm's drain has another name now; update fsmDrain in settle.go", fsmDrain)
		}
		runtime.Gosched()
	}
	lease.Release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
