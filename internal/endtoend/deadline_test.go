package endtoend_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// The confirmation deadline: a pending Start whose notification never comes
// ends with failed sent to the fake and the gate never opened; a signed
// completed for that attempt arriving afterwards is acknowledged and
// ignored as stale.
//
// fsm lets only its own tests replace the deadline's timer, so the deadline
// here is short and real; the test waits for the machine's own event, never
// for a fixed time.
func TestConfirmationDeadlineReportsFailedAndALateCompletedIsStale(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)
	c := b.newCall(t, fsm.WithConfirmationDeadline(20*time.Millisecond))

	wd.at("Start, answered running, and no notification")
	c.fake.Then(graphtest.ReplyStatus(string(graph.OperationRunning)))
	op, err := c.m.Start(ctx) // the deadline may pass before Start's caller looks: no state check here
	if err != nil || !op.Status.Pending() {
		t.Fatalf("Start: operation %q, %v; want a pending reply", op.Status, err)
	}
	failed, err := c.events.waitFor(ctx, "the confirmation deadline to end the attempt", isTransitionTo(fsm.Failed))
	if err != nil {
		t.Fatal(err)
	}
	if failed.Trigger != fsm.ConfirmationTimeout {
		t.Errorf("Failed entered by %v, want %v", failed.Trigger, fsm.ConfirmationTimeout)
	}
	if got := statusesSent(c.id); len(got) != 2 || got[0] != string(graph.StatusRecording) || got[1] != string(graph.StatusFailed) {
		t.Errorf("the fake received %v; want recording, then failed", got)
	}
	checkUnchanged(t, c, fsm.Failed)

	wd.at("the late signed completed")
	// Named by its operation id: the fake's latest operation of the call is
	// now the failed report's.
	d, err := fake.Send(ctx, graphtest.Notification{CallID: c.id, OperationID: op.ID, Status: graph.OperationCompleted})
	if err != nil {
		t.Fatal(err)
	}
	if d.StatusCode != http.StatusAccepted {
		t.Errorf("the late completed: callback answered %d, want 202", d.StatusCode)
	}
	if got := b.ignoredFor(c.id); len(got) != 1 || got[0] != fsm.IgnoredStaleOperation {
		t.Errorf("the registry's verdicts: %v; want the late completed ignored as %s", got, fsm.IgnoredStaleOperation)
	}
	checkUnchanged(t, c, fsm.Failed)

	endCall(ctx, t, c)
}

// The failed report sent when the confirmation deadline passes is a request
// of its own: it is not bounded by that deadline. With a 20 ms deadline and
// a Graph that takes 50 ms to answer the report (a loaded machine's Graph
// did), the machine used to give up on the report and stay in Stopping.
func TestFailedReportSlowerThanTheConfirmationDeadlineLands(t *testing.T) {
	newWatchdog(t, 20*time.Second)
	ctx := testContext(t, 5*time.Second)
	b := newBot(t)
	c := b.newCall(t, fsm.WithConfirmationDeadline(20*time.Millisecond))
	c.fake.Then(graphtest.ReplyStatus(string(graph.OperationRunning)), graphtest.Latency(50*time.Millisecond))
	if _, err := c.m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.events.waitFor(ctx, "Failed", isTransitionTo(fsm.Failed)); err != nil {
		t.Fatalf("%v; state %v; requests %v", err, c.m.State(), statusesSent(c.id))
	}
}
