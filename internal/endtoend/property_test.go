package endtoend_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// target is what a drawn notification names.
type target string

const (
	targetCurrent        target = "the current attempt"
	targetOlder          target = "an older attempt of this call"
	targetOtherCall      target = "another call's operation"
	targetOtherCallOurs  target = "another call, carrying this attempt's operation"
	targetForeignContext target = "this attempt's operation id with another clientContext"
)

// drawnNotification is one notification of a drawn sequence.
type drawnNotification struct {
	Forgery graphtest.Forgery // NotForged: genuine
	Target  target            // ignored for ForgedReplay, whose body is another call's
	Status  graph.OperationStatus
}

func (d drawnNotification) String() string {
	if d.Forgery == graphtest.ForgedReplay {
		return fmt.Sprintf("%s with the replayed token and another call's body", d.Status)
	}
	return fmt.Sprintf("%s (%s) for %s", d.Status, d.Forgery, d.Target)
}

// modelState is what the machine must be in, by P8: the attempt stays
// pending until a genuine completed or failed that names it.
type modelState int

const (
	modelPending   modelState = iota // AwaitingConfirmation, gate closed
	modelRecording                   // Recording, gate open
	modelRefused                     // NotRecording, gate closed
)

var modelStates = map[modelState]fsm.State{
	modelPending: fsm.AwaitingConfirmation, modelRecording: fsm.Recording, modelRefused: fsm.NotRecording,
}

// apply is the model: only a genuine notification naming the current
// attempt, while it is pending, moves it.
func (s modelState) apply(d drawnNotification) modelState {
	if s != modelPending || d.Forgery != graphtest.NotForged || d.Target != targetCurrent {
		return s
	}
	switch d.Status {
	case graph.OperationCompleted:
		return modelRecording
	case graph.OperationFailed:
		return modelRefused
	}
	return s
}

// Invariant P8 OnlyAuthenticConfirmation, end to end: for any mix and
// order of genuine and forged notifications (completed, failed or running;
// for the current attempt, an older one, another call; forged in every way
// the fake knows), the gate opens only on a genuine completed that names
// the current attempt, a bad token is answered 401 and reaches nothing,
// and the machine is always in the state the model says.
func TestOnlyAuthenticConfirmationOpensTheGate(t *testing.T) {
	const limit = 90 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)

	// Another call the fake knows, in which the bot has no machine, with
	// an operation of its own.
	otherCall := uuid.NewString()
	if err := fake.AddCall(otherCall).SetCallback(b.url, appID); err != nil {
		t.Fatal(err)
	}
	otherOp, err := b.client.UpdateRecordingStatus(ctx, otherCall, graph.StatusRecording, "other-call-attempt")
	if err != nil {
		t.Fatal(err)
	}

	forgeries := graphtest.Forgeries()
	// completed twice: it is the status that matters most.
	statuses := []graph.OperationStatus{graph.OperationCompleted, graph.OperationCompleted, graph.OperationFailed, graph.OperationRunning}
	opened, cases := 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		cases++
		wd.at(fmt.Sprintf("case %d: setup", cases))
		c := b.newCall(rt)
		// The current attempt twice, so that it is named often enough.
		targets := []target{targetCurrent, targetCurrent, targetOtherCall, targetOtherCallOurs, targetForeignContext}

		// Perhaps an older attempt first, which Graph refused or the bot
		// stopped before its outcome.
		var older graph.Operation
		switch rapid.SampledFrom([]string{"none", "refused", "stopped"}).Draw(rt, "older attempt") {
		case "refused":
			older = c.startPending(ctx, rt)
			if d, err := c.fake.Notify(ctx, graph.OperationFailed); err != nil || d.StatusCode != http.StatusAccepted {
				rt.Fatalf("the older attempt's genuine failed: %d, %v", d.StatusCode, err)
			}
		case "stopped":
			older = c.startPending(ctx, rt)
			if err := c.m.Stop(ctx); err != nil {
				rt.Fatalf("Stop while pending: %v", err)
			}
		}
		if older.ID != "" {
			targets = append(targets, targetOlder)
		}
		current := c.startPending(ctx, rt)

		notification := rapid.Custom(func(rt *rapid.T) drawnNotification {
			d := drawnNotification{
				Target: rapid.SampledFrom(targets).Draw(rt, "target"),
				Status: rapid.SampledFrom(statuses).Draw(rt, "status"),
			}
			// Half genuine, so that the genuine completed for the current
			// attempt comes up often enough.
			if !rapid.Bool().Draw(rt, "genuine") {
				d.Forgery = rapid.SampledFrom(forgeries).Draw(rt, "forgery")
			}
			return d
		})
		sequence := rapid.SliceOfN(notification, 1, 10).Draw(rt, "notifications")

		model := modelPending
		for i, d := range sequence {
			wd.at(fmt.Sprintf("case %d: notification %d: %s", cases, i, d))
			n := graphtest.Notification{CallID: c.id, Status: d.Status, Forgery: d.Forgery}
			switch {
			case d.Forgery == graphtest.ForgedReplay:
				n.OperationID, n.ClientContext = otherOp.ID, otherOp.ClientContext
			case d.Target == targetCurrent:
				n.OperationID = current.ID
			case d.Target == targetOlder:
				n.OperationID = older.ID
			case d.Target == targetOtherCall:
				n.CallID, n.OperationID = otherCall, otherOp.ID
			case d.Target == targetOtherCallOurs:
				n.CallID, n.OperationID, n.ClientContext = otherCall, current.ID, current.ClientContext
			case d.Target == targetForeignContext:
				n.OperationID, n.ClientContext = current.ID, "not-this-attempt"
			}
			eventsBefore := c.events.count()
			delivered, err := fake.Send(ctx, n)
			if err != nil {
				rt.Fatalf("notification %d (%s): %v", i, d, err)
			}
			want := http.StatusAccepted
			if !d.Forgery.TokenValid() {
				want = refusedStatus(d.Forgery)
			}
			// A key ID the key set lacks is refused 503 once the validator
			// fetched the set within its refetch interval, and 401 if it may
			// still fetch (its first fetch can come before or after this
			// notification: timing, not the seed). Either refuses;
			// forgery_test.go pins each case down.
			unknownKeyRefused := d.Forgery == graphtest.ForgedUnknownKey && delivered.StatusCode == http.StatusUnauthorized
			if delivered.StatusCode != want && !unknownKeyRefused {
				rt.Fatalf("notification %d (%s): callback answered %d, want %d", i, d, delivered.StatusCode, want)
			}
			if want != http.StatusAccepted && c.events.count() != eventsBefore {
				rt.Fatalf("notification %d (%s) was refused, yet the machine saw %d events", i, d, c.events.count()-eventsBefore)
			}

			model = model.apply(d)
			openings := countGateOpenings(c.events.all())
			if got := c.m.State(); got != modelStates[model] {
				rt.Fatalf("after notification %d (%s): state %v, want %v", i, d, got, modelStates[model])
			}
			if open := c.m.Gate().IsOpen(); open != (model == modelRecording) || openings != boolToInt(model == modelRecording) {
				rt.Fatalf("after notification %d (%s): gate open %v, opened %d times; P8 allows it open (once) only after a genuine completed for the current attempt", i, d, open, openings)
			}
		}
		if model == modelRecording {
			opened++
		}
		wd.at(fmt.Sprintf("case %d: the signed termination", cases))
		endCall(ctx, rt, c)
	})
	// A property that never saw the gate open would hold vacuously.
	if opened == 0 || opened == cases {
		t.Errorf("the gate opened in %d of %d cases: the drawn sequences do not cover both outcomes", opened, cases)
	}
	t.Logf("%d cases, the gate opened in %d", cases, opened)
}

func boolToInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
