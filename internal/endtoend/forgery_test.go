package endtoend_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

// wantReason is the reason the handler gives for each forgery whose token
// is bad. ForgedReplay's token is genuine: it is acknowledged, and the
// registry ignores its body.
var wantReason = map[graphtest.Forgery]callback.RejectReason{
	graphtest.ForgedNoToken:       callback.RejectMissingToken,
	graphtest.ForgedMalformed:     callback.RejectMalformedToken,
	graphtest.ForgedUnsigned:      callback.RejectUnsigned,
	graphtest.ForgedAlgNone:       callback.RejectUnsigned,
	graphtest.ForgedHMACPublicKey: callback.RejectAlgorithm,
	graphtest.ForgedOtherKey:      callback.RejectBadSignature,
	graphtest.ForgedUnknownKey:    callback.RejectUnknownKey,
	graphtest.ForgedTampered:      callback.RejectBadSignature,
	graphtest.ForgedExpired:       callback.RejectExpired,
	graphtest.ForgedNotYetValid:   callback.RejectNotYetValid,
	graphtest.ForgedWrongAudience: callback.RejectWrongAudience,
	graphtest.ForgedWrongIssuer:   callback.RejectWrongIssuer,
	graphtest.ForgedNoTenant:      callback.RejectNoTenant,
}

// Every forgery the fake makes, POSTed as a completed for the pending
// attempt and as the call's termination: a bad token gets 401 and never
// reaches the machine; the replayed genuine token with another call's body
// is acknowledged and ignored. The gate stays closed and the state as it
// was, and afterwards a genuine completed still opens the gate (so the
// refusals were not a broken wiring).
func TestEveryForgeryIsRefusedAndChangesNothing(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)
	for _, f := range graphtest.Forgeries() {
		t.Run(f.String(), func(t *testing.T) {
			c := b.newCall(t)
			wd.at(f.String() + ": Start")
			c.startPending(ctx, t)
			rejectsBefore, eventsBefore := len(b.rejected()), c.events.count()

			wd.at(f.String() + ": forged completed")
			d, err := c.fake.NotifyForged(ctx, f, graph.OperationCompleted)
			if err != nil {
				t.Fatalf("NotifyForged: %v", err)
			}
			checkForgeryAnswered(t, b, c, f, d, rejectsBefore, eventsBefore)
			checkUnchanged(t, c, fsm.AwaitingConfirmation)

			if f != graphtest.ForgedReplay {
				// A replayed genuine token carrying a termination for this
				// call would end it: the token is not bound to the body
				// (graph/callback's doc.go). Only the bad tokens are tried.
				wd.at(f.String() + ": forged termination")
				rejectsBefore, eventsBefore = len(b.rejected()), c.events.count()
				d, err = fake.Send(ctx, graphtest.Notification{CallID: c.id, Terminated: true, Forgery: f})
				if err != nil {
					t.Fatalf("Send forged termination: %v", err)
				}
				checkForgeryAnswered(t, b, c, f, d, rejectsBefore, eventsBefore)
				checkUnchanged(t, c, fsm.AwaitingConfirmation)
				if _, ok := b.registry.Get(c.id); !ok {
					t.Error("a forged termination took the call out of the registry")
				}
			}

			wd.at(f.String() + ": the genuine completed")
			if d, err := c.fake.Notify(ctx, graph.OperationCompleted); err != nil || d.StatusCode != http.StatusAccepted {
				t.Fatalf("the genuine completed after the forgery: %d, %v", d.StatusCode, err)
			}
			if !c.m.Gate().IsOpen() {
				t.Fatal("the genuine completed did not open the gate: the wiring is broken, so the refusals above prove nothing")
			}
			endCall(ctx, t, c)
		})
	}
}

// checkForgeryAnswered checks the callback's answer to forgery f: 401 with
// f's reason and nothing handed to the machine, or, for the replay, 202
// with the notification ignored as naming no attempt of the call.
func checkForgeryAnswered(t *testing.T, b *bot, c *call, f graphtest.Forgery, d graphtest.Delivery, rejectsBefore, eventsBefore int) {
	t.Helper()
	if f.TokenValid() {
		if d.StatusCode != http.StatusAccepted {
			t.Errorf("%s: callback answered %d, want 202 (the token is genuine; the body names no attempt of this call)", f, d.StatusCode)
		}
		if got := b.ignoredFor(c.id); len(got) == 0 || got[len(got)-1] != fsm.IgnoredStaleOperation {
			t.Errorf("%s: the registry's verdicts for the call are %v; want it ignored as %s", f, got, fsm.IgnoredStaleOperation)
		}
		return
	}
	if want := refusedStatus(f); d.StatusCode != want {
		t.Errorf("%s: callback answered %d, want %d", f, d.StatusCode, want)
	}
	rejects := b.rejected()
	if len(rejects) != rejectsBefore+1 || rejects[len(rejects)-1] != wantReason[f] {
		t.Errorf("%s: refusals went from %d to %v; want one more, %q", f, rejectsBefore, rejects, wantReason[f])
	}
	if n := c.events.count(); n != eventsBefore {
		t.Errorf("%s: the machine saw %d events; a refused request must reach nothing", f, n-eventsBefore)
	}
}

// refusedStatus is how the callback refuses forgery f: 401, but 503 (with
// Retry-After) for a key ID the cached key set lacks while a refetch is
// not yet allowed (it may be a key Microsoft rotated in since the last
// fetch, and Graph delivers a notification answered 503 again).
func refusedStatus(f graphtest.Forgery) int {
	if f == graphtest.ForgedUnknownKey {
		return http.StatusServiceUnavailable
	}
	return http.StatusUnauthorized
}

// checkUnchanged checks the machine is still in state with the gate closed
// and never opened.
func checkUnchanged(t failer, c *call, state fsm.State) {
	t.Helper()
	if got := c.m.State(); got != state {
		t.Errorf("state %v, want it unchanged: %v", got, state)
	}
	if c.m.Gate().IsOpen() || gateOpened(c.events.all()) {
		t.Error("the gate opened")
	}
}

// endCall ends c with the fake's signed termination and checks the
// registry forgot it.
func endCall(ctx context.Context, t failer, c *call) {
	t.Helper()
	d, err := c.fake.End(ctx, nil)
	if err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("the signed termination: callback answered %d, %v; want 202", d.StatusCode, err)
	}
	if c.m.State() != fsm.Ended {
		t.Errorf("after the signed termination: state %v, want Ended", c.m.State())
	}
}

// Genuinely signed notifications that do not name the current attempt:
// each is acknowledged (202, so Graph does not retry), ignored with the
// reason the registry gives, and changes nothing; a genuine completed for
// the current attempt then opens the gate.
func TestGenuineNotificationsThatNameNoCurrentAttemptChangeNothing(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)

	// Another call the fake knows and POSTs to the same callback, in which
	// the bot has no machine; it has an operation of its own.
	otherCall := uuid.NewString()
	other := fake.AddCall(otherCall)
	if err := other.SetCallback(b.url, appID); err != nil {
		t.Fatal(err)
	}
	otherOp, err := b.client.UpdateRecordingStatus(ctx, otherCall, graph.StatusRecording, "other-call-attempt")
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		// prepare brings the call to a pending attempt and returns the
		// notification to send, which must change nothing.
		prepare func(t *testing.T, c *call) graphtest.Notification
		// ignoredAs is the reason the registry gives, and the call it is
		// logged for (the notification names it).
		ignoredAs fsm.IgnoreReason
		namesCall func(c *call) string
	}{
		{
			name: "another call",
			prepare: func(t *testing.T, c *call) graphtest.Notification {
				c.startPending(ctx, t)
				return graphtest.Notification{CallID: otherCall, OperationID: otherOp.ID, Status: graph.OperationCompleted}
			},
			ignoredAs: fsm.IgnoredUnknownCall, namesCall: func(*call) string { return otherCall },
		},
		{
			name: "another call carrying this attempt's clientContext",
			prepare: func(t *testing.T, c *call) graphtest.Notification {
				op := c.startPending(ctx, t)
				return graphtest.Notification{CallID: otherCall, OperationID: op.ID, ClientContext: op.ClientContext, Status: graph.OperationCompleted}
			},
			ignoredAs: fsm.IgnoredUnknownCall, namesCall: func(*call) string { return otherCall },
		},
		{
			name: "an older attempt that Graph refused",
			prepare: func(t *testing.T, c *call) graphtest.Notification {
				old := c.startPending(ctx, t)
				if d, err := c.fake.Notify(ctx, graph.OperationFailed); err != nil || d.StatusCode != http.StatusAccepted {
					t.Fatalf("the genuine failed: %d, %v", d.StatusCode, err)
				}
				if c.m.State() != fsm.NotRecording {
					t.Fatalf("after a genuine failed: state %v, want NotRecording", c.m.State())
				}
				c.startPending(ctx, t)
				return graphtest.Notification{CallID: c.id, OperationID: old.ID, Status: graph.OperationCompleted}
			},
			ignoredAs: fsm.IgnoredStaleOperation, namesCall: func(c *call) string { return c.id },
		},
		{
			name: "an older attempt the bot stopped",
			prepare: func(t *testing.T, c *call) graphtest.Notification {
				old := c.startPending(ctx, t)
				if err := c.m.Stop(ctx); err != nil {
					t.Fatalf("Stop while pending: %v", err)
				}
				c.startPending(ctx, t)
				return graphtest.Notification{CallID: c.id, OperationID: old.ID, Status: graph.OperationCompleted}
			},
			ignoredAs: fsm.IgnoredStaleOperation, namesCall: func(c *call) string { return c.id },
		},
		{
			name: "this attempt's operation id with another clientContext",
			prepare: func(t *testing.T, c *call) graphtest.Notification {
				op := c.startPending(ctx, t)
				return graphtest.Notification{CallID: c.id, OperationID: op.ID, ClientContext: "not-this-attempt", Status: graph.OperationCompleted}
			},
			ignoredAs: fsm.IgnoredStaleOperation, namesCall: func(c *call) string { return c.id },
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wd.at(tc.name + ": prepare")
			c := b.newCall(t)
			n := tc.prepare(t, c)
			ignoredBefore := len(b.ignoredFor(tc.namesCall(c)))

			wd.at(tc.name + ": the genuine notification")
			d, err := fake.Send(ctx, n)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if d.StatusCode != http.StatusAccepted {
				t.Errorf("callback answered %d, want 202: a genuine notification is acknowledged even when it changes nothing", d.StatusCode)
			}
			if got := b.ignoredFor(tc.namesCall(c)); len(got) != ignoredBefore+1 || got[len(got)-1] != tc.ignoredAs {
				t.Errorf("the registry's verdicts: %v; want one more, %s", got, tc.ignoredAs)
			}
			checkUnchanged(t, c, fsm.AwaitingConfirmation)

			wd.at(tc.name + ": the genuine completed for the current attempt")
			if d, err := c.fake.Notify(ctx, graph.OperationCompleted); err != nil || d.StatusCode != http.StatusAccepted {
				t.Fatalf("the genuine completed: %d, %v", d.StatusCode, err)
			}
			if !c.m.Gate().IsOpen() {
				t.Fatal("the genuine completed for the current attempt did not open the gate")
			}
			endCall(ctx, t, c)
		})
	}
}

// A token captured from a genuine notification to call A, replayed with a
// body that names A's operation re-addressed to call B: the token verifies
// (nothing in a JWT binds it to the body), so the handler acknowledges it,
// and the registry ignores it because it names none of B's attempts. Nor
// does a redelivery of A's completed change A, which is already recording.
func TestReplayedTokenWithAnotherCallsBodyChangesNothing(t *testing.T) {
	const limit = 20 * time.Second
	wd := newWatchdog(t, limit)
	ctx := testContext(t, limit)
	b := newBot(t)
	a, victim := b.newCall(t), b.newCall(t)

	wd.at("call A confirmed by a genuine completed")
	aOp := a.startPending(ctx, t)
	if d, err := a.fake.Notify(ctx, graph.OperationCompleted); err != nil || d.StatusCode != http.StatusAccepted || !a.m.Gate().IsOpen() {
		t.Fatalf("call A's genuine completed: %d, %v, gate open %v", d.StatusCode, err, a.m.Gate().IsOpen())
	}
	victim.startPending(ctx, t)

	wd.at("the replay to call B")
	d, err := victim.fake.NotifyForged(ctx, graphtest.ForgedReplay, graph.OperationCompleted)
	if err != nil {
		t.Fatal(err)
	}
	if d.StatusCode != http.StatusAccepted || d.CallID != victim.id || d.OperationID != aOp.ID || d.ClientContext != aOp.ClientContext {
		t.Fatalf("the replay: %d for call %s naming operation %s (%s); want 202 for call B naming A's operation %s (%s)",
			d.StatusCode, d.CallID, d.OperationID, d.ClientContext, aOp.ID, aOp.ClientContext)
	}
	if got := b.ignoredFor(victim.id); len(got) != 1 || got[0] != fsm.IgnoredStaleOperation {
		t.Errorf("the registry's verdicts for B: %v; want the replay ignored as %s", got, fsm.IgnoredStaleOperation)
	}
	checkUnchanged(t, victim, fsm.AwaitingConfirmation)

	wd.at("call A's completed delivered again")
	opens := countGateOpenings(a.events.all())
	if d, err := fake.Send(ctx, graphtest.Notification{CallID: a.id, OperationID: aOp.ID, Status: graph.OperationCompleted}); err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("the redelivery: %d, %v", d.StatusCode, err)
	}
	if a.m.State() != fsm.Recording || countGateOpenings(a.events.all()) != opens {
		t.Errorf("a redelivered completed changed call A: state %v, gate openings %d (was %d)", a.m.State(), countGateOpenings(a.events.all()), opens)
	}
	endCall(ctx, t, a)
	endCall(ctx, t, victim)
}

func countGateOpenings(events []fsm.Event) int {
	n := 0
	for _, e := range events {
		if e.Kind == fsm.EventGate && e.Open {
			n++
		}
	}
	return n
}
