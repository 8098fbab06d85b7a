package graphtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// received is one POST the bot's callback got.
type received struct {
	auth, contentType string
	body              []byte
}

// callbackServer is a bot's callback that answers code and hands each
// POST to the test.
func callbackServer(t *testing.T, code int) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"), body: b}
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

// next waits for the callback's next POST, or fails naming what hung.
func next(t *testing.T, got <-chan received, what string) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("watchdog: the callback never received %s", what)
	}
	return received{}
}

func watchdog(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func graphClient(t *testing.T, fake *graphtest.Server) *graph.Client {
	t.Helper()
	c, err := graph.NewClient(graph.StaticToken("t"), graph.WithBaseURL(fake.BaseURL()), graph.WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wire is Graph's commsNotifications body, as a bot's handler reads it.
type wire struct {
	ODataType string `json:"@odata.type"`
	Value     []struct {
		ODataType    string         `json:"@odata.type"`
		ChangeType   string         `json:"changeType"`
		ResourceURL  string         `json:"resourceUrl"`
		ResourceData map[string]any `json:"resourceData"`
	} `json:"value"`
}

func decode(t *testing.T, r received) wire {
	t.Helper()
	var w wire
	if err := json.Unmarshal(r.body, &w); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
	if w.ODataType != "#microsoft.graph.commsNotifications" || len(w.Value) != 1 || w.Value[0].ODataType != "#microsoft.graph.commsNotification" {
		t.Fatalf("not a commsNotifications body with one item: %s", r.body)
	}
	if r.contentType != "application/json" {
		t.Errorf("Content-Type %q", r.contentType)
	}
	return w
}

// A pending reply, then on the test's command a signed notification that
// reaches the callback with a token that verifies, in Graph's shape; the
// fake's copy of the operation agrees.
func TestPendingThenNotifyCompleted(t *testing.T) {
	fake := newFake(t)
	cb, got := callbackServer(t, http.StatusAccepted)
	call := fake.AddCall("c1").ReplyWith("running")
	if err := fake.SetCallback(cb.URL+"/callback", appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	op, err := graphClient(t, fake).UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1")
	if err != nil || op.Status != graph.OperationRunning {
		t.Fatalf("reply %v %v, want running", op.Status, err)
	}
	d, err := call.Notify(ctx, graph.OperationCompleted)
	if err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("delivery %+v %v", d, err)
	}
	r := next(t, got, "the completed notification")
	tok, ok := strings.CutPrefix(r.auth, "Bearer ")
	if !ok {
		t.Fatalf("Authorization %q is not a bearer token", r.auth)
	}
	if _, err := verify(keySet(t, fake), tok, appID); err != nil {
		t.Errorf("the notification's token does not verify: %v", err)
	}
	w := decode(t, r)
	item := w.Value[0]
	opID := op.Location[strings.LastIndex(op.Location, "/")+1:]
	if item.ChangeType != "updated" || item.ResourceURL != "/communications/calls/c1/operations/"+opID {
		t.Errorf("changeType %q resourceUrl %q", item.ChangeType, item.ResourceURL)
	}
	rd := item.ResourceData
	if rd["@odata.type"] != graph.OperationODataType || rd["clientContext"] != "ctx-1" || rd["id"] != opID || rd["status"] != "completed" || rd["resultInfo"] != nil {
		t.Errorf("resourceData %v", rd)
	}
	if _, has := rd["resultInfo"]; !has {
		t.Error("resultInfo missing; Graph sends null")
	}
	if d.OperationID != opID || d.ClientContext != "ctx-1" || d.Status != "completed" || d.URL != cb.URL+"/callback" || string(d.Body) != string(r.body) {
		t.Errorf("delivery %+v", d)
	}
	if strings.Contains(fmt.Sprintf("%+v", fake.Deliveries()), tok) {
		t.Error("the delivery log holds the token")
	}
	if ops := call.Operations(); len(ops) != 1 || ops[0].Status != graph.OperationCompleted {
		t.Errorf("fake's operations %+v", ops)
	}
}

// A scripted pending reply notifies by itself once the reply is out; the
// test waits on the delivery, not on a timer.
func TestScriptedPendingThenNotify(t *testing.T) {
	fake := newFake(t)
	cb, got := callbackServer(t, http.StatusOK)
	ri := graph.ResultInfo{Code: 403, Subcode: 8506, Message: "not a compliance call"}
	call := fake.AddCall("c1").Then(graphtest.PendingThen(graph.OperationCompleted), graphtest.PendingThenFailed(ri))
	if err := call.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	client := graphClient(t, fake)
	for i, want := range []string{"completed", "failed"} {
		op, err := client.UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, fmt.Sprint("ctx-", i))
		if err != nil || op.Status != graph.OperationRunning || op.ResultInfo != nil {
			t.Fatalf("reply %d: %+v %v, want running without resultInfo", i, op, err)
		}
		ds, err := fake.WaitDeliveries(ctx, i+1)
		if err != nil {
			t.Fatalf("watchdog: %v", err)
		}
		d := ds[i]
		rd := decode(t, next(t, got, want)).Value[0].ResourceData
		if d.StatusCode != 200 || d.Status != want || rd["status"] != want || rd["clientContext"] != fmt.Sprint("ctx-", i) {
			t.Errorf("notification %d: delivery %+v, resourceData %v", i, d, rd)
		}
		if want == "failed" {
			info, _ := rd["resultInfo"].(map[string]any)
			if info["code"] != 403.0 || info["subcode"] != 8506.0 {
				t.Errorf("resultInfo %v", rd["resultInfo"])
			}
		}
	}
}

// Termination: the notification, then 404 with Graph's error body.
func TestEndNotifiesThenNotFound(t *testing.T) {
	fake := newFake(t)
	cb, got := callbackServer(t, http.StatusOK)
	call := fake.AddCall("c1")
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	client := graphClient(t, fake)
	if _, err := client.UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1"); err != nil {
		t.Fatal(err)
	}
	if d, err := call.End(ctx, nil); err != nil || d.StatusCode != 200 || d.Status != "terminated" {
		t.Fatalf("End: %+v %v", d, err)
	}
	item := decode(t, next(t, got, "the termination")).Value[0]
	rd := item.ResourceData
	if item.ChangeType != "deleted" || item.ResourceURL != "/communications/calls/c1" || rd["@odata.type"] != "#microsoft.graph.call" || rd["id"] != "c1" || rd["state"] != "terminated" || rd["resultInfo"] == nil {
		t.Errorf("termination %+v", item)
	}
	_, err := client.UpdateRecordingStatus(ctx, "c1", graph.StatusNotRecording, "ctx-2")
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.StatusCode != 404 || ge.Code == "" {
		t.Errorf("after termination: %v, want a 404 with Graph's error body", err)
	}
}

// EndCall scripted: 404 for the request, and the termination notification.
func TestScriptedEndCall(t *testing.T) {
	fake := newFake(t)
	cb, got := callbackServer(t, http.StatusOK)
	fake.AddCall("c1").Then(graphtest.EndCall())
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	_, err := graphClient(t, fake).UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1")
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.StatusCode != 404 {
		t.Fatalf("%v, want 404", err)
	}
	if rd := decode(t, next(t, got, "the termination")).Value[0].ResourceData; rd["state"] != "terminated" {
		t.Errorf("resourceData %v", rd)
	}
}

func TestGraphRefusals(t *testing.T) {
	fake := newFake(t) // without WithAnyCall: unknown calls get 404
	fake.AddCall("c1").Then(graphtest.NonCompliant(), graphtest.Forbidden())
	ctx := watchdog(t)
	client := graphClient(t, fake)
	for _, tc := range []struct {
		call          string
		code          int
		nonCompliance bool
	}{{"c1", 403, true}, {"c1", 403, false}, {"no-such-call", 404, false}} {
		_, err := client.UpdateRecordingStatus(ctx, tc.call, graph.StatusRecording, "ctx")
		var ge *graph.Error
		if !errors.As(err, &ge) || ge.StatusCode != tc.code || ge.NonCompliance() != tc.nonCompliance || ge.Code == "" || ge.Message == "" {
			t.Errorf("%s: %v, want %d with NonCompliance %v and Graph's error body", tc.call, err, tc.code, tc.nonCompliance)
		}
	}
	if op, err := client.UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx"); err != nil || !op.Status.Confirmed() {
		t.Errorf("after the script: %v %v", op.Status, err)
	}
}

// A forged notification reaches the callback with the forged token and
// changes nothing in the fake.
func TestNotifyForged(t *testing.T) {
	fake := newFake(t)
	cb, got := callbackServer(t, http.StatusUnauthorized)
	call := fake.AddCall("c1").ReplyWith("running")
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	if _, err := graphClient(t, fake).UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1"); err != nil {
		t.Fatal(err)
	}
	set := keySet(t, fake)
	for _, f := range []graphtest.Forgery{graphtest.ForgedNoToken, graphtest.ForgedAlgNone, graphtest.ForgedExpired, graphtest.ForgedWrongAudience} {
		d, err := call.NotifyForged(ctx, f, graph.OperationCompleted)
		if err != nil || d.StatusCode != 401 || d.Forgery != f {
			t.Fatalf("%s: %+v %v", f, d, err)
		}
		r := next(t, got, string(f))
		tok := strings.TrimPrefix(r.auth, "Bearer ")
		if f == graphtest.ForgedNoToken {
			if r.auth != "" {
				t.Errorf("noToken sent Authorization")
			}
		} else if _, err := verify(set, tok, appID); err == nil {
			t.Errorf("%s: the token sent verifies", f)
		}
		if rd := decode(t, r).Value[0].ResourceData; rd["status"] != "completed" || rd["clientContext"] != "ctx-1" {
			t.Errorf("%s: body %v", f, rd)
		}
	}
	if ops := call.Operations(); ops[0].Status != graph.OperationRunning {
		t.Errorf("a forged notification changed the fake's operation: %v", ops[0].Status)
	}
	if _, err := call.NotifyForged(ctx, graphtest.NotForged, graph.OperationCompleted); err == nil {
		t.Error("NotifyForged(NotForged): no error")
	}
}

// Replay: the token of an earlier genuine delivery, with that call's body
// re-addressed to another call.
func TestNotifyForgedReplay(t *testing.T) {
	fake := newFake(t, graphtest.WithAnyCall())
	cb, got := callbackServer(t, http.StatusOK)
	a, b := fake.AddCall("a").ReplyWith("running"), fake.AddCall("b").ReplyWith("running")
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	client := graphClient(t, fake)
	opA, _ := client.UpdateRecordingStatus(ctx, "a", graph.StatusRecording, "ctx-a")
	if _, err := client.UpdateRecordingStatus(ctx, "b", graph.StatusRecording, "ctx-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Notify(ctx, graph.OperationCompleted); err != nil {
		t.Fatal(err)
	}
	genuine := next(t, got, "a's notification")
	if _, err := b.NotifyForged(ctx, graphtest.ForgedReplay, graph.OperationCompleted); err != nil {
		t.Fatal(err)
	}
	replayed := next(t, got, "the replay")
	if replayed.auth != genuine.auth {
		t.Error("the replay does not carry the earlier genuine token")
	}
	item := decode(t, replayed).Value[0]
	aOpID := opA.Location[strings.LastIndex(opA.Location, "/")+1:]
	if !strings.HasPrefix(item.ResourceURL, "/communications/calls/b/operations/") || item.ResourceData["clientContext"] != "ctx-a" || item.ResourceData["id"] != aOpID {
		t.Errorf("replay body %+v: want call b, a's operation and clientContext", item)
	}
	if ops := b.Operations(); ops[0].Status != graph.OperationRunning {
		t.Errorf("the replay changed b's operation: %v", ops[0].Status)
	}
}

func TestCallbackRegistration(t *testing.T) {
	fake := newFake(t)
	for _, tc := range []struct{ url, app string }{
		{"http://example.com/cb", appID},
		{"http://10.0.0.1/cb", appID},
		{"ftp://127.0.0.1/cb", appID},
		{"http://127.0.0.1/cb", ""},
		{"://bad", appID},
	} {
		if err := fake.SetCallback(tc.url, tc.app); err == nil {
			t.Errorf("SetCallback(%q, %q): no error", tc.url, tc.app)
		}
	}
	for _, ok := range []string{"http://127.0.0.1:1/cb", "https://localhost:1/cb", "http://[::1]:1/cb"} {
		if err := fake.SetCallback(ok, appID); err != nil {
			t.Errorf("SetCallback(%q): %v", ok, err)
		}
	}
	other := graphtest.NewServer(graphtest.WithSigningKey(sharedKey(t)))
	defer other.Close()
	call := other.AddCall("c1")
	if _, err := call.Notify(watchdog(t), graph.OperationCompleted); err == nil || !strings.Contains(err.Error(), "SetCallback") {
		t.Errorf("Notify without a callback: %v", err)
	}
	if err := call.SetCallback("http://127.0.0.1:1/cb", appID); err != nil {
		t.Fatal(err)
	}
	if _, err := call.Notify(watchdog(t), graph.OperationCompleted); err == nil || !strings.Contains(err.Error(), "no operation") {
		t.Errorf("Notify before any request: %v", err)
	}
	if _, err := other.Send(watchdog(t), graphtest.Notification{CallID: "ghost", Terminated: true}); err == nil {
		t.Error("Send for an unknown call: no error")
	}
}

// The hooks see every request and delivery, never a token.
func TestHooks(t *testing.T) {
	reqs := make(chan graphtest.Request, 8)
	dels := make(chan graphtest.Delivery, 8)
	fake := newFake(t, graphtest.WithRequestHook(func(r graphtest.Request) { reqs <- r }),
		graphtest.WithDeliveryHook(func(d graphtest.Delivery) { dels <- d }))
	cb, _ := callbackServer(t, http.StatusOK)
	fake.AddCall("c1").Then(graphtest.PendingThen(graph.OperationCompleted))
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	ctx := watchdog(t)
	if _, err := graphClient(t, fake).UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-reqs:
		if r.Method != "POST" || r.Reply != 200 || r.OperationStatus != "running" || r.Header.Get("Authorization") != "Bearer [redacted]" {
			t.Errorf("request hook got %+v", r)
		}
	case <-ctx.Done():
		t.Fatal("watchdog: the request hook was never called")
	}
	select {
	case d := <-dels:
		if d.StatusCode != 200 || d.Status != "completed" || strings.Contains(string(d.Body), "Bearer") {
			t.Errorf("delivery hook got %+v", d)
		}
	case <-ctx.Done():
		t.Fatal("watchdog: the delivery hook was never called")
	}
}

// Close does not wait for a scripted notification's delay.
func TestCloseDropsDelayedNotifications(t *testing.T) {
	fake := graphtest.NewServer(graphtest.WithSigningKey(sharedKey(t)))
	cb, _ := callbackServer(t, http.StatusOK)
	fake.AddCall("c1").Then(graphtest.Fault{Kind: graphtest.KindPending, Notify: graphtest.NotifyCompleted, NotifyDelayMS: 3600_000})
	if err := fake.SetCallback(cb.URL, appID); err != nil {
		t.Fatal(err)
	}
	if _, err := graphClient(t, fake).UpdateRecordingStatus(watchdog(t), "c1", graph.StatusRecording, "ctx-1"); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { fake.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("watchdog: Close waited for a notification scheduled an hour ahead")
	}
	if n := len(fake.Deliveries()); n != 0 {
		t.Errorf("%d deliveries, want none", n)
	}
}

func TestNewFaultsValidate(t *testing.T) {
	good := []graphtest.Fault{
		graphtest.PendingThen(graph.OperationCompleted),
		graphtest.PendingThenFailed(graph.ResultInfo{Code: 500}),
		graphtest.EndCall(),
		graphtest.Forbidden(),
		graphtest.NonCompliant(),
		{Kind: graphtest.KindPending, Status: "notStarted"},
		{Kind: graphtest.KindStatus, Status: "completed", Notify: graphtest.NotifyTerminated, NotifyDelayMS: 10},
		{Kind: graphtest.KindPending, Notify: graphtest.NotifyCompleted, Forgery: graphtest.ForgedExpired},
	}
	for _, f := range good {
		if err := f.Validate(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	bad := []graphtest.Fault{
		{Kind: graphtest.KindPending, Status: "completed"},
		{Kind: graphtest.KindThrottle, Notify: graphtest.NotifyCompleted},
		{Kind: graphtest.KindPending, Notify: "sideways"},
		{Kind: graphtest.KindPending, Forgery: graphtest.ForgedExpired},
		{Kind: graphtest.KindPending, Notify: graphtest.NotifyCompleted, Forgery: "sideways"},
		{Kind: graphtest.KindPending, Notify: graphtest.NotifyCompleted, NotifyDelayMS: -1},
	}
	for _, f := range bad {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
}

// A scripted notification with no callback to go to is logged with the
// reason, so a test waiting for it learns why nothing arrived.
func TestScriptedNotifyWithoutCallback(t *testing.T) {
	fake := newFake(t)
	fake.AddCall("c1").Then(graphtest.PendingThen(graph.OperationCompleted))
	ctx := watchdog(t)
	if _, err := graphClient(t, fake).UpdateRecordingStatus(ctx, "c1", graph.StatusRecording, "ctx-1"); err != nil {
		t.Fatal(err)
	}
	ds, err := fake.WaitDeliveries(ctx, 1)
	if err != nil {
		t.Fatalf("watchdog: %v", err)
	}
	if d := ds[0]; d.StatusCode != 0 || d.Err == nil || !strings.Contains(d.Err.Error(), "SetCallback") || d.CallID != "c1" {
		t.Errorf("delivery %+v, want an error naming SetCallback", d)
	}
}
