package callback_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
)

// genuine is the Authorization header of a valid token.
func genuine(t testing.TB) string {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + need(t)(signRS256(keys[0], "k1", validClaims()))
}

// item is one commsNotification.
func item(changeType, resourceURL, resourceData string) string {
	return fmt.Sprintf(`{"@odata.type":"#microsoft.graph.commsNotification","changeType":%q,"resourceUrl":%q,"resourceData":%s}`,
		changeType, resourceURL, resourceData)
}

func notifications(items ...string) string {
	return `{"@odata.type":"#microsoft.graph.commsNotifications","value":[` + strings.Join(items, ",") + `]}`
}

const recordingOp = `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"cc-7","status":"Completed","resultInfo":null}`

// TestOperationUpdate: an updateRecordingStatusOperation under each accepted
// resourceUrl shape is handed on as NotificationOperation, with the call ID
// and operation ID from the URL, the status read case-insensitively, and who
// vouched for it.
func TestOperationUpdate(t *testing.T) {
	urls := []string{
		"/communications/calls/" + testCallID + "/operations/" + testOpID,
		"/app/calls/" + testCallID + "/operations/" + testOpID,
		"/v1.0/communications/calls/" + testCallID + "/operations/" + testOpID,
		"/beta/app/calls/" + testCallID + "/operations/" + testOpID,
		"https://graph.microsoft.com/v1.0/communications/calls/" + testCallID + "/operations/" + testOpID,
		"/Communications/Calls/" + testCallID + "/Operations/" + testOpID,
	}
	for _, changeType := range []string{"updated", "deleted"} {
		for _, u := range urls {
			t.Run(changeType+" "+u, func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, nil)
				rec := f.post(t, genuine(t), notifications(item(changeType, u, recordingOp)))
				if rec.Code != http.StatusAccepted {
					t.Fatalf("status %d, want 202", rec.Code)
				}
				got := f.notifications()
				if len(got) != 1 {
					t.Fatalf("receiver got %d notifications, want 1; log:\n%s", len(got), f.logs.String())
				}
				want := graph.Notification{
					Kind:   graph.NotificationOperation,
					CallID: testCallID,
					Operation: graph.Operation{
						ODataType: graph.OperationODataType, ID: testOpID, ClientContext: "cc-7",
						Status: graph.OperationCompleted,
					},
					ChangeType: changeType, ResourceURL: u,
					Issuer: callback.IssuerGraph, Tenant: testTenant, Received: testNow,
				}
				if fmt.Sprintf("%+v", got[0]) != fmt.Sprintf("%+v", want) {
					t.Errorf("got  %+v\nwant %+v", got[0], want)
				}
			})
		}
	}
}

// TestOperationFailedCarriesResultInfo: a refused operation reaches the
// receiver with its resultInfo, and the id in the body is kept.
func TestOperationFailedCarriesResultInfo(t *testing.T) {
	f := newFixture(t, nil)
	data := `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","id":"` + testOpID + `","clientContext":"cc-8","status":"failed",
		"resultInfo":{"code":403,"subcode":8506,"message":"API call not allowed for non-Compliance Recording call"}}`
	f.post(t, genuine(t), notifications(item("updated", "/communications/calls/"+testCallID+"/operations/"+testOpID, data)))
	got := f.notifications()
	if len(got) != 1 || got[0].Operation.Status != graph.OperationFailed || got[0].Operation.ResultInfo == nil ||
		got[0].Operation.ResultInfo.Subcode != 8506 || got[0].Operation.ID != testOpID {
		t.Fatalf("got %+v, want one failed operation with subcode 8506", got)
	}
}

// TestCallEnded: a call whose state is terminated, and a deleted call, are
// both handed on as NotificationCallEnded.
func TestCallEnded(t *testing.T) {
	callURL := "/communications/calls/" + testCallID
	cases := []struct{ name, body string }{
		{"state terminated", notifications(item("updated", callURL,
			`{"@odata.type":"#microsoft.graph.call","id":"`+testCallID+`","state":"Terminated","resultInfo":{"code":200,"subcode":5001}}`))},
		{"deleted", notifications(item("deleted", callURL, `{"@odata.type":"#microsoft.graph.call","state":"terminated"}`))},
		{"deleted without resourceData", notifications(item("deleted", "/app/calls/"+testCallID, `null`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			if rec := f.post(t, genuine(t), tc.body); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d, want 202", rec.Code)
			}
			got := f.notifications()
			if len(got) != 1 || got[0].Kind != graph.NotificationCallEnded || got[0].CallID != testCallID ||
				got[0].Tenant != testTenant || !got[0].Received.Equal(testNow) {
				t.Fatalf("got %+v, want one callEnded for %s", got, testCallID)
			}
		})
	}
}

// TestUnknownKindsAreAcknowledged: notifications recgate does not act on get
// 202 and reach nobody.
func TestUnknownKindsAreAcknowledged(t *testing.T) {
	call := "/communications/calls/" + testCallID
	op := call + "/operations/" + testOpID
	cases := []struct{ name, body string }{
		{"call established", notifications(item("updated", call, `{"@odata.type":"#microsoft.graph.call","state":"established"}`))},
		{"call updated without state", notifications(item("updated", call, `{}`))},
		{"participants", notifications(item("updated", call+"/participants", `[{"id":"p"}]`))},
		{"another operation type", notifications(item("deleted", op, `{"@odata.type":"#microsoft.graph.playPromptOperation","status":"completed"}`))},
		{"operation without type", notifications(item("updated", op, `{"status":"completed"}`))},
		{"operation with unknown status", notifications(item("updated", op, `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","status":"done"}`))},
		{"operation id differs from URL", notifications(item("updated", op, `{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","id":"other","status":"completed"}`))},
		{"call id differs from URL", notifications(item("updated", call, `{"@odata.type":"#microsoft.graph.call","id":"other","state":"terminated"}`))},
		{"dot-segment call id", notifications(item("deleted", "/communications/calls/..", `null`))},
		{"dot-segment operation id", notifications(item("updated", call+"/operations/..", recordingOp))},
		{"escaped call id", notifications(item("deleted", "/communications/calls/a%2Fb", `null`))},
		{"query in URL", notifications(item("deleted", "https://graph.microsoft.com/v1.0/communications/calls/x?y=1", `null`))},
		{"trailing slash", notifications(item("deleted", call+"/", `null`))},
		{"relative URL", notifications(item("deleted", "communications/calls/"+testCallID, `null`))},
		{"plain http URL", notifications(item("deleted", "http://graph.microsoft.com/v1.0/communications/calls/"+testCallID, `null`))},
		{"not a call", notifications(item("updated", "/communications/onlineMeetings/"+testCallID, `{}`))},
		{"item not an object", notifications(`42`)},
		{"another @odata.type", `{"@odata.type":"#microsoft.graph.changeNotificationCollection","value":[` + item("deleted", call, `null`) + `]}`},
		{"empty value", `{"value":[]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			if rec := f.post(t, genuine(t), tc.body); rec.Code != http.StatusAccepted {
				t.Fatalf("status %d, want 202", rec.Code)
			}
			if got := f.notifications(); len(got) != 0 {
				t.Errorf("receiver got %+v, want nothing", got)
			}
			if got := f.rejected(); len(got) != 0 {
				t.Errorf("reject hook saw %v for an acknowledged request", got)
			}
		})
	}
}

// TestMalformedBody: an authenticated body that is not a commsNotifications
// object gets 400 and reaches nobody.
func TestMalformedBody(t *testing.T) {
	for _, body := range []string{``, `{`, `[]`, `"value"`, `{"value":{}}`, `{"value":null}`, `{}`, `{"value":[1,]}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			rec := f.post(t, genuine(t), body)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			if got := f.notifications(); len(got) != 0 {
				t.Errorf("receiver got %+v", got)
			}
			if got := f.rejected(); len(got) != 1 || got[0] != callback.RejectMalformedBody {
				t.Errorf("reject hook saw %v, want [%s]", got, callback.RejectMalformedBody)
			}
		})
	}
}

// TestOversizedBody: an authenticated body over the cap gets 413 and reaches
// nobody; one at the cap is read.
func TestOversizedBody(t *testing.T) {
	body := operationBody(testCallID, testOpID, "completed")
	f := newFixture(t, nil, callback.WithMaxBodyBytes(int64(len(body)-1)))
	if rec := f.post(t, genuine(t), body); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
	if got := f.notifications(); len(got) != 0 {
		t.Errorf("receiver got %+v", got)
	}
	if got := f.rejected(); len(got) != 1 || got[0] != callback.RejectBodyTooLarge {
		t.Errorf("reject hook saw %v", got)
	}
	g := newFixture(t, nil, callback.WithMaxBodyBytes(int64(len(body))))
	if rec := g.post(t, genuine(t), body); rec.Code != http.StatusAccepted || len(g.notifications()) != 1 {
		t.Errorf("a body exactly at the cap: status %d, %d notifications", rec.Code, len(g.notifications()))
	}
}

// TestSeveralItems: every item of one POST is handed on, in order, the
// unknown ones skipped.
func TestSeveralItems(t *testing.T) {
	f := newFixture(t, nil)
	other := "8d0f0a1e-2222-4333-8444-555566667777"
	body := notifications(
		item("updated", "/communications/calls/"+testCallID+"/operations/op-1",
			`{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"a","status":"running"}`),
		item("updated", "/communications/calls/"+testCallID+"/participants", `[]`),
		item("deleted", "/communications/calls/"+testCallID+"/operations/op-1",
			`{"@odata.type":"#microsoft.graph.updateRecordingStatusOperation","clientContext":"a","status":"completed"}`),
		item("deleted", "/communications/calls/"+other, `null`),
	)
	if rec := f.post(t, genuine(t), body); rec.Code != http.StatusAccepted {
		t.Fatalf("status %d", rec.Code)
	}
	got := f.notifications()
	if len(got) != 3 {
		t.Fatalf("receiver got %d notifications, want 3: %+v", len(got), got)
	}
	if got[0].Operation.Status != graph.OperationRunning || got[1].Operation.Status != graph.OperationCompleted ||
		got[2].Kind != graph.NotificationCallEnded || got[2].CallID != other {
		t.Errorf("wrong order or content: %+v", got)
	}
}

// TestNotifyErrorIsAcknowledged: a receiver error (say, an unknown call) is
// logged and answered 202, so Graph does not deliver it again for ever.
func TestNotifyErrorIsAcknowledged(t *testing.T) {
	f := newFixture(t, nil)
	f.fail = errors.New("fsm: no machine for call")
	rec := f.post(t, genuine(t), operationBody(testCallID, testOpID, "completed"))
	if rec.Code != http.StatusAccepted {
		t.Errorf("status %d, want 202", rec.Code)
	}
	if !strings.Contains(f.logs.String(), "no machine for call") {
		t.Errorf("the receiver's error is not logged:\n%s", f.logs.String())
	}
}

// TestNotifyGetsADeadline: Notify's context has the notify timeout as its
// deadline, and is not cancelled when the request's is.
func TestNotifyGetsADeadline(t *testing.T) {
	f := newFixture(t, nil, callback.WithNotifyTimeout(300*time.Millisecond))
	// Warm the key cache: with a cancelled request a key fetch is abandoned.
	// On a loaded machine one fetch can outlast its timeout (the handler
	// then answers 503, as it should): warm until the keys are in.
	for try := 1; ; try++ {
		rec := f.post(t, genuine(t), `{"value":[]}`)
		if rec.Code == http.StatusAccepted {
			break
		}
		if try == 5 {
			t.Fatalf("warming the key cache: %d %s, 5 times", rec.Code, rec.Body)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/callback", strings.NewReader(operationBody(testCallID, testOpID, "completed")))
	req.Header.Set("Authorization", genuine(t))
	var seen context.Context
	f.fail = nil
	cancel() // Graph hung up: the authenticated notification is still delivered.
	start := time.Now()
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	f.mu.Lock()
	if len(f.ctxs) == 1 {
		seen = f.ctxs[0]
	}
	f.mu.Unlock()
	if seen == nil {
		t.Fatalf("Notify was not called: %d %s", rec.Code, rec.Body)
	}
	dl, ok := seen.Deadline()
	if !ok || dl.Sub(start) > 300*time.Millisecond+time.Second || dl.Before(start) {
		t.Errorf("Notify's deadline %v (ok %v), want about 300ms after %v", dl, ok, start)
	}
	if seen.Err() == nil {
		t.Error("Notify's context still live after the handler returned")
	}
}

// TestOnlyPost: other methods get 405 before any authentication.
func TestOnlyPost(t *testing.T) {
	f := newFixture(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/callback", nil)
	req.Header.Set("Authorization", genuine(t))
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("status %d Allow %q, want 405 with Allow: POST", rec.Code, rec.Header().Get("Allow"))
	}
	if f.ms.configHits.Load() != 0 {
		t.Error("a GET made the validator fetch the configuration")
	}
}

// TestSeveralAuthorizationHeaders: two Authorization headers, even if one is
// genuine, are refused.
func TestSeveralAuthorizationHeaders(t *testing.T) {
	f := newFixture(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/callback", strings.NewReader(operationBody(testCallID, testOpID, "completed")))
	req.Header.Add("Authorization", genuine(t))
	req.Header.Add("Authorization", "Bearer x.y.z")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || len(f.notifications()) != 0 {
		t.Errorf("status %d, %d notifications; want 401 and none", rec.Code, len(f.notifications()))
	}
}

// TestHandlerOptions: bad handler configurations are refused.
func TestHandlerOptions(t *testing.T) {
	v, err := callback.NewValidator(testAppID)
	if err != nil {
		t.Fatal(err)
	}
	recv := callback.ReceiverFunc(func(context.Context, graph.Notification) error { return nil })
	cases := []struct {
		name string
		recv callback.Receiver
		v    *callback.Validator
		opt  callback.Option
	}{
		{"nil receiver", nil, v, nil},
		{"nil validator", recv, nil, nil},
		{"nil logger", recv, v, callback.WithLogger(nil)},
		{"zero body cap", recv, v, callback.WithMaxBodyBytes(0)},
		{"zero notify timeout", recv, v, callback.WithNotifyTimeout(0)},
		{"nil hook", recv, v, callback.WithRejectHook(nil)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []callback.Option
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			if _, err := callback.NewHandler(tc.recv, tc.v, opts...); err == nil {
				t.Error("NewHandler accepted it")
			}
		})
	}
}

// TestTokenIsNotBoundToTheBody documents a limit: a genuine token replayed
// with another call's body is accepted here (the token authenticates the
// sender, not the body), so the Receiver must still match the current
// attempt by clientContext or operation ID, and the URL must be HTTPS.
func TestTokenIsNotBoundToTheBody(t *testing.T) {
	f := newFixture(t, nil)
	auth := genuine(t)
	f.post(t, auth, operationBody(testCallID, testOpID, "running"))
	f.post(t, auth, operationBody("5e0c0c0c-aaaa-4bbb-8ccc-dddddddddddd", "other-op", "completed"))
	got := f.notifications()
	if len(got) != 2 || got[1].CallID == testCallID {
		t.Fatalf("got %+v, want both bodies handed on as they are", got)
	}
}
