package endtoend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// The whole pending flow, with every piece real but Microsoft: Start gets
// running; the fake POSTs a signed completed to the callback; the handler
// validates it and the registry routes it to the machine, which opens the
// gate; frames are persisted; Stop closes the gate, waits for the lease a
// writer still holds, runs the hook and only then reports notRecording; the
// fake's signed termination ends the machine and the registry forgets it.
func TestPendingFlowThroughHandlerRegistryClientMachineAndFake(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)

	var file bytes.Buffer
	var hookMu sync.Mutex
	var hookRanAt time.Time
	c := b.newCall(t, fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error {
		hookMu.Lock()
		hookRanAt = time.Now()
		hookMu.Unlock()
		return nil
	}))
	w := c.m.Gate().Writer(&file)
	defer w.Close()

	wd.at("Start, answered running")
	op := c.startPending(ctx, t)
	if _, err := w.Write([]byte("pre-consent ")); !errors.Is(err, fsm.ErrGateClosed) {
		t.Fatalf("a frame before the confirmation: err %v, want ErrGateClosed", err)
	}

	wd.at("the fake POSTs a signed completed")
	d, err := c.fake.Notify(ctx, graph.OperationCompleted)
	if err != nil {
		t.Fatalf("Notify: %v", err)
	}
	if d.StatusCode != http.StatusAccepted || d.OperationID != op.ID || d.ClientContext != op.ClientContext {
		t.Fatalf("the completed notification: callback answered %d for operation %q (clientContext %q); want 202 for %q (%q)",
			d.StatusCode, d.OperationID, d.ClientContext, op.ID, op.ClientContext)
	}
	// The handler applied it before it answered: the gate is open now.
	if c.m.State() != fsm.Recording || !c.m.Gate().IsOpen() {
		t.Fatalf("after the signed completed: state %v, gate open %v; want Recording with the gate open", c.m.State(), c.m.Gate().IsOpen())
	}
	update, err := c.events.waitFor(ctx, "the update event", func(e fsm.Event) bool { return e.Kind == fsm.EventUpdate })
	if err != nil {
		t.Fatal(err)
	}
	if update.Via != fsm.ViaNotification || update.Issuer != graphtest.DefaultIssuer || update.Tenant != graphtest.DefaultTenant || update.Err != nil {
		t.Errorf("the update was recorded as via %q, issuer %q, tenant %q, err %v; want the notification vouched for by the fake's issuer and tenant",
			update.Via, update.Issuer, update.Tenant, update.Err)
	}

	wd.at("writing frames")
	for _, frame := range []string{"frame-1 ", "frame-2 "} {
		if _, err := w.Write([]byte(frame)); err != nil {
			t.Fatalf("writing %q in the confirmed recording: %v", frame, err)
		}
	}

	wd.at("Stop while a writer holds a lease")
	stream := c.m.Gate().NewStream()
	defer stream.Close()
	lease, err := stream.Acquire()
	if err != nil {
		t.Fatalf("Acquire in the confirmed recording: %v", err)
	}
	file.WriteString("frame-3 ") // the write the lease covers
	stopped := make(chan error, 1)
	go func() { stopped <- c.m.Stop(ctx) }()
	if _, err := c.events.waitFor(ctx, "the gate to close on Stop", func(e fsm.Event) bool {
		return e.Kind == fsm.EventGate && !e.Open && e.Trigger == fsm.Stop
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("after-stop ")); !errors.Is(err, fsm.ErrGateClosed) {
		t.Errorf("a frame after Stop closed the gate: err %v, want ErrGateClosed", err)
	}
	if got := statusesSent(c.id); contains(got, string(graph.StatusNotRecording)) {
		t.Fatalf("notRecording was sent while a lease was held (requests %v)", got)
	}
	lease.Release()
	wd.at("Stop draining and reporting notRecording")
	if err := <-stopped; err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if c.m.State() != fsm.NotRecording {
		t.Fatalf("after Stop: state %v, want NotRecording", c.m.State())
	}
	if got := file.String(); got != "frame-1 frame-2 frame-3 " {
		t.Errorf("persisted %q; want exactly the three frames of the confirmed recording", got)
	}
	checkReportAfterHook(t, c, &hookMu, &hookRanAt)

	wd.at("the fake's signed termination")
	before := b.registry.Len()
	d, err = c.fake.End(ctx, nil)
	if err != nil {
		t.Fatalf("End: %v", err)
	}
	if d.StatusCode != http.StatusAccepted {
		t.Fatalf("the termination: callback answered %d, want 202", d.StatusCode)
	}
	if c.m.State() != fsm.Ended {
		t.Errorf("after the signed termination: state %v, want Ended", c.m.State())
	}
	if _, ok := b.registry.Get(c.id); ok || b.registry.Len() != before-1 {
		t.Errorf("the registry still holds the ended call (len %d, was %d)", b.registry.Len(), before)
	}
	if _, err := c.m.Start(ctx); !errors.Is(err, fsm.ErrCallEnded) {
		t.Errorf("Start after the call ended: %v, want ErrCallEnded", err)
	}
	if got := statusesSent(c.id); len(got) != 2 || got[0] != "recording" || got[1] != "notRecording" {
		t.Errorf("the fake received %v; want exactly recording, notRecording", got)
	}
	if rejects := b.rejected(); len(rejects) != 0 {
		t.Errorf("the handler refused genuine notifications: %v", rejects)
	}
}

// The flow scripted in the fake, with no test command in between:
// PendingThen answers running and POSTs the signed completed right after
// the reply; EndCall answers the report 404 and POSTs a signed termination.
// The test waits on the machine's events.
func TestScriptedPendingThenCompletedAndEndCall(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)
	c := b.newCall(t)
	c.fake.Then(graphtest.PendingThen(graph.OperationCompleted), graphtest.EndCall())

	wd.at("Start, answered running, then notified completed")
	if _, err := c.m.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := c.events.waitFor(ctx, "the gate to open on the scripted notification", func(e fsm.Event) bool {
		return e.Kind == fsm.EventGate && e.Open
	}); err != nil {
		t.Fatal(err)
	}
	open, err := c.events.waitFor(ctx, "the transition into Recording", isTransitionTo(fsm.Recording))
	if err != nil {
		t.Fatal(err)
	}
	if open.Via != fsm.ViaNotification || open.Trigger != fsm.OperationUpdate {
		t.Errorf("Recording entered by %v via %q; want OperationUpdate via notification", open.Trigger, open.Via)
	}

	wd.at("Stop, answered 404 as the call ends, then the signed termination")
	// EndCall answers the notRecording report 404 (the call is gone) and
	// then POSTs the termination: the report fails, the gate stays closed,
	// and the notification ends the machine.
	if err := c.m.Stop(ctx); err == nil {
		t.Error("Stop succeeded although the fake answered its report 404")
	}
	if c.m.Gate().IsOpen() {
		t.Error("the gate is open after Stop")
	}
	if _, err := c.events.waitFor(ctx, "the signed termination to end the machine", isTransitionTo(fsm.Ended)); err != nil {
		t.Fatal(err)
	}
	// The machine reaches Ended inside the callback's Notify, and the
	// registry forgets it just after; the fake records the delivery once
	// the callback has answered, so that is the moment to look.
	if err := waitForDelivery(ctx, c.id, "deleted"); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.registry.Get(c.id); ok {
		t.Error("the registry still holds the call the fake ended")
	}
}

// checkReportAfterHook checks rule R2 in the machine's events and the
// fake's log: leases drained, then the hook, then notRecording sent.
func checkReportAfterHook(t *testing.T, c *call, hookMu *sync.Mutex, hookRanAt *time.Time) {
	t.Helper()
	order := map[fsm.EventKind]int{}
	for i, e := range c.events.all() {
		switch {
		case e.Kind == fsm.EventLeasesDrained, e.Kind == fsm.EventHookRan:
			order[e.Kind] = i
		case e.Kind == fsm.EventRequest && e.Status == graph.StatusNotRecording:
			order[e.Kind] = i
		}
	}
	drained, okD := order[fsm.EventLeasesDrained]
	hook, okH := order[fsm.EventHookRan]
	report, okR := order[fsm.EventRequest]
	if !okD || !okH || !okR || !(drained < hook && hook < report) {
		t.Errorf("events out of order (drained %d, hook %d, notRecording %d); want drained < hook < report", drained, hook, report)
	}
	hookMu.Lock()
	ran := *hookRanAt
	hookMu.Unlock()
	for _, r := range fake.Requests() {
		if r.CallID == c.id && r.Status == string(graph.StatusNotRecording) && !r.Time.After(ran) {
			t.Errorf("the fake received notRecording at %v, not after the hook ran at %v", r.Time, ran)
		}
	}
}

// statusesSent lists the statuses of the updates the fake received for
// callID, in order.
func statusesSent(callID string) []string {
	var out []string
	for _, r := range fake.Requests() {
		if r.CallID == callID && r.Method == http.MethodPost {
			out = append(out, r.Status)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// waitForDelivery waits until the shared fake has recorded a notification
// of changeType for callID, answered by the callback.
func waitForDelivery(ctx context.Context, callID, changeType string) error {
	for n := 1; ; {
		ds, err := fake.WaitDeliveries(ctx, n)
		if err != nil {
			return fmt.Errorf("waiting for the %s notification of call %s: %w", changeType, callID, err)
		}
		for _, d := range ds {
			if d.CallID == callID && d.ChangeType == changeType {
				return nil
			}
		}
		n = len(ds) + 1
	}
}
