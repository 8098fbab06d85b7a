package fsm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// waitingGraph answers no request until the request's context ends, as a
// slow Graph behind a client whose request CallEnded cancels.
type waitingGraph struct{ sent chan struct{} }

func (g waitingGraph) UpdateRecordingStatus(ctx context.Context, _ string, _ graph.Status, _ string) (graph.Operation, error) {
	g.sent <- struct{}{}
	<-ctx.Done()
	return graph.Operation{}, ctx.Err()
}

// When CallEnded overtakes Start's request, Start's error says the call
// ended and where the machine goes, not that it "stays in NotRecording"
// while State() already says Ended.
func TestStartOvertakenByCallEndedSaysTheCallEnded(t *testing.T) {
	g := waitingGraph{sent: make(chan struct{}, 1)}
	m, err := fsm.New("57dab8b1-894c-409a-b240-bd8beae78896", g)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := m.Start(context.Background()); done <- err }()
	watchdog := time.NewTimer(10 * time.Second)
	defer watchdog.Stop()
	select {
	case <-g.sent:
	case <-watchdog.C:
		t.Fatal("watchdog: Start's request never reached Graph")
	}
	if err := m.CallEnded(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err = <-done:
	case <-watchdog.C:
		t.Fatal("watchdog: Start did not return after CallEnded")
	}
	var re *fsm.RequestError
	if !errors.As(err, &re) {
		t.Fatalf("Start: %v, want a *fsm.RequestError", err)
	}
	if !re.CallEnded || strings.Contains(err.Error(), "stays in") || !strings.Contains(err.Error(), "call ended") {
		t.Fatalf("Start's error does not say the call ended (CallEnded %v): %v", re.CallEnded, err)
	}
	if m.State() != fsm.Ended {
		t.Fatalf("state %s after CallEnded, want Ended", m.State())
	}
}
