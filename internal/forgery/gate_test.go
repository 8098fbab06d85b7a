package forgery_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

// TestForgeriesNeverOpenTheGate wires a bot as in production: a real
// graph.Client talking to graphtest's fake Graph, the calls' machines in an
// fsm.Registry, and the registry behind the real callback Handler, whose
// Validator trusts this package's Microsoft. The machine sends recording and
// Graph answers running; then the forger POSTs everything it has, each
// naming the pending attempt. The gate must stay closed, the machine must
// stay AwaitingConfirmation and stay in the registry, and afterwards a
// genuine completed must open the gate (so the refusals were not a broken
// wiring).
func TestForgeriesNeverOpenTheGate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	watchdog := time.AfterFunc(25*time.Second, func() { panic("TestForgeriesNeverOpenTheGate hung past 25s") })
	defer watchdog.Stop()

	fake := graphtest.NewServer()
	defer fake.Close()
	client, err := graph.NewClient(graph.StaticToken("graph-token"), graph.WithBaseURL(fake.BaseURL()),
		graph.WithHTTPClient(fake.Client()), graph.WithBackoff(time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var gateOpened atomic.Int64
	registry, err := fsm.NewRegistry(func(callID string) (*fsm.Machine, error) {
		return fsm.New(callID, client, fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate && e.Open {
				gateOpened.Add(1)
			}
		}))
	})
	if err != nil {
		t.Fatal(err)
	}
	ms := newMicrosoft(t)
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(ms.configURL()),
		callback.WithHTTPClient(&http.Client{Timeout: 2 * time.Second}), callback.WithFetchTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	h, err := callback.NewHandler(registry, v, callback.WithLogger(discard))
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{ms: ms, url: serve(t, h)}

	callID := uuid.NewString()
	fake.AddCall(callID).Then(graphtest.ReplyStatus(string(graph.OperationRunning)))
	m, err := registry.Create(callID)
	if err != nil {
		t.Fatal(err)
	}
	op, err := m.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if m.State() != fsm.AwaitingConfirmation || m.Gate().IsOpen() {
		t.Fatalf("after running: state %v, gate open %v", m.State(), m.Gate().IsOpen())
	}
	ours := completedFor(callID, op.ID, op.ClientContext)
	now := time.Now()
	genuineAuth := []string{"Bearer " + genuineToken(now)}

	// Forged tokens carrying a completed for the pending attempt, and a
	// termination of the call (which would take it out of the registry).
	forgedTokens := map[string]string{
		"alg none":                       compact("none", nil, jsonOf(header("none", kidRSA)), jsonOf(genuineClaims(now))),
		"HS256 with the public key":      compact("HS256", keys.rsa.N.Bytes(), jsonOf(header("HS256", kidRSA)), jsonOf(genuineClaims(now))),
		"attacker key, kid of Microsoft": withHeader(kidRSA, nil)(now),
		"attacker key, jku":              withHeader("attacker", map[string]any{"jku": "http://127.0.0.1:1/keys"})(now),
		"attacker key, jwk":              withHeader("attacker", map[string]any{"jwk": jwk(&keys.attacker.PublicKey, "attacker", "RS256")})(now),
		"another bot":                    genuineClaimsWith(map[string]any{"aud": "another-bot"})(now),
		"another issuer":                 genuineClaimsWith(map[string]any{"iss": "https://graph.microsoft.com/"})(now),
		"expired":                        genuineClaimsWith(map[string]any{"exp": now.Add(-time.Hour).Unix()})(now),
		"not yet valid":                  genuineClaimsWith(map[string]any{"nbf": now.Add(time.Hour).Unix()})(now),
		"no tenant":                      genuineClaimsWith(map[string]any{"tid": nil})(now),
	}
	terminated := []byte(notificationsOf(fmt.Sprintf(`{"changeType":"deleted","resourceUrl":"/communications/calls/%s","resourceData":null}`, callID)))
	// Tokens under a kid Microsoft's key set does not name get 503 (the
	// validator may not fetch the key set again yet, and Graph delivers a
	// 503 again): refused for now, never accepted. The first token with a
	// signature to check fetches the key set; the other bot's token does
	// that first, so that every answer below is the one of a cached set.
	unknownKid := map[string]bool{"attacker key, jku": true, "attacker key, jwk": true}
	if o := tg.send(t, []string{"Bearer " + forgedTokens["another bot"]}, ours, nil); o.status != http.StatusUnauthorized {
		t.Errorf("another bot, first: status %d, want 401", o.status)
	}
	for name, tok := range forgedTokens {
		want := http.StatusUnauthorized
		if unknownKid[name] {
			want = http.StatusServiceUnavailable
		}
		for _, body := range [][]byte{ours, terminated} {
			o := tg.send(t, []string{"Bearer " + tok}, body, nil)
			if o.status != want {
				t.Errorf("%s: status %d, want %d", name, o.status, want)
			}
		}
	}

	// A genuine token whose body names something else: another call,
	// another operation, another attempt, or two items of which none is
	// ours. Acknowledged, and nothing changes.
	otherCall := uuid.NewString()
	decoys := map[string][]byte{
		"another call's operation":            completedFor(otherCall, op.ID, op.ClientContext),
		"another clientContext":               completedFor(callID, op.ID, "not-"+op.ClientContext),
		"another operation, no clientContext": []byte(notificationsOf(operationItem(callID, "other-op", "", "completed"))),
		"our clientContext with a suffix":     completedFor(callID, op.ID, op.ClientContext+"x"),
		"two items, another call then another attempt": []byte(notificationsOf(
			operationItem(otherCall, op.ID, op.ClientContext, "completed"),
			operationItem(callID, "other-op", "other-cc", "completed"))),
		"resourceData id differs from the URL": []byte(notificationsOf(fmt.Sprintf(`{"changeType":"deleted",`+
			`"resourceUrl":"/communications/calls/%s/operations/other-op","resourceData":{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation",`+
			`"id":%q,"clientContext":%q,"status":"completed"}}`, callID, op.ID, op.ClientContext))),
		"running, then completed of another attempt": []byte(notificationsOf(
			operationItem(callID, op.ID, op.ClientContext, "running"),
			operationItem(callID, "other-op", "other-cc", "completed"))),
		"a call resource with a completed status": []byte(notificationsOf(fmt.Sprintf(`{"changeType":"updated",`+
			`"resourceUrl":"/communications/calls/%s","resourceData":{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation",`+
			`"clientContext":%q,"status":"completed"}}`, callID, op.ClientContext))),
		"another @odata.type": []byte(`{"@odata.type":"#microsoft.graph.chatMessage","value":[` + operationItem(callID, op.ID, op.ClientContext, "completed") + `]}`),
	}
	for name, body := range decoys {
		o := tg.send(t, genuineAuth, body, nil)
		if o.status != http.StatusAccepted {
			t.Errorf("%s: status %d, want 202", name, o.status)
		}
	}

	if n := gateOpened.Load(); n != 0 || m.Gate().IsOpen() {
		t.Fatalf("the gate opened %d times before any genuine completed for the attempt", n)
	}
	if m.State() != fsm.AwaitingConfirmation {
		t.Fatalf("state %v after the forgeries, want AwaitingConfirmation", m.State())
	}
	if _, ok := registry.Get(callID); !ok {
		t.Fatal("a forgery took the call out of the registry")
	}

	// The control: the same wiring opens the gate on a genuine completed.
	if o := tg.send(t, genuineAuth, ours, nil); o.status != http.StatusAccepted {
		t.Fatalf("genuine completed: status %d, want 202", o.status)
	}
	if !m.Gate().IsOpen() || m.State() != fsm.Recording {
		t.Fatalf("genuine completed: state %v, gate open %v; want Recording with the gate open", m.State(), m.Gate().IsOpen())
	}
}
