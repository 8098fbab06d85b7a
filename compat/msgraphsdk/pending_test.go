package msgraphsdk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/callback"
	"github.com/recgate/recgate/graph/graphtest"
)

const appID = "11111111-2222-4333-8444-555555555555"

// received is one notification the bot's callback got, as the SDK reads
// it.
type received struct {
	tokenOK     bool
	changeType  string
	resourceURL string
	op          models.UpdateRecordingStatusOperationable // an operation update
	call        models.Callable                           // a termination
}

// callbackRecorder is a bot's callback URL: it checks the token with
// recgate's validator (against the fake's OpenID configuration) and parses
// each notification's resourceData with the SDK's own models.
type callbackRecorder struct {
	t   *testing.T
	srv *httptest.Server
	v   *callback.Validator

	mu  sync.Mutex
	got []received
}

func newCallbackRecorder(t *testing.T, fake *graphtest.Server) *callbackRecorder {
	t.Helper()
	v, err := callback.NewValidator(appID, callback.WithOpenIDConfigURL(fake.OpenIDConfigURL()), callback.WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatalf("validator: %v", err)
	}
	cr := &callbackRecorder{t: t, v: v}
	cr.srv = httptest.NewServer(http.HandlerFunc(cr.serve))
	t.Cleanup(cr.srv.Close)
	if err := fake.SetCallback(cr.srv.URL, appID); err != nil {
		t.Fatalf("SetCallback: %v", err)
	}
	return cr
}

func (cr *callbackRecorder) serve(w http.ResponseWriter, r *http.Request) {
	_, err := cr.v.Validate(r.Context(), r.Header.Get("Authorization"))
	rec := received{tokenOK: err == nil}
	body, _ := io.ReadAll(r.Body)
	var doc struct {
		Value []struct {
			ChangeType   string          `json:"changeType"`
			ResourceURL  string          `json:"resourceUrl"`
			ResourceData json.RawMessage `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Value) != 1 {
		cr.t.Errorf("callback body %s: %v", body, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	n := doc.Value[0]
	rec.changeType, rec.resourceURL = n.ChangeType, n.ResourceURL
	node, err := jsonserialization.NewJsonParseNode(n.ResourceData)
	if err != nil {
		cr.t.Errorf("resourceData %s: %v", n.ResourceData, err)
	} else if n.ChangeType == "deleted" {
		v, err := node.GetObjectValue(models.CreateCallFromDiscriminatorValue)
		if err != nil {
			cr.t.Errorf("the SDK cannot read resourceData %s as a call: %v", n.ResourceData, err)
		} else {
			rec.call = v.(models.Callable)
		}
	} else {
		v, err := node.GetObjectValue(models.CreateCommsOperationFromDiscriminatorValue)
		if err != nil {
			cr.t.Errorf("the SDK cannot read resourceData %s as an operation: %v", n.ResourceData, err)
		} else if op, ok := v.(models.UpdateRecordingStatusOperationable); ok {
			rec.op = op
		} else {
			cr.t.Errorf("resourceData parsed as %T, want an UpdateRecordingStatusOperation", v)
		}
	}
	cr.mu.Lock()
	cr.got = append(cr.got, rec)
	cr.mu.Unlock()
	if !rec.tokenOK {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (cr *callbackRecorder) received() []received {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	return append([]received(nil), cr.got...)
}

// getOperation GETs an operation through the SDK.
func (c *sdkClient) getOperation(ctx context.Context, callID, opID string) (models.UpdateRecordingStatusOperationable, error) {
	v, err := c.Communications().Calls().ByCallId(callID).Operations().ByCommsOperationId(opID).Get(ctx, nil)
	if err != nil {
		return nil, err
	}
	op, ok := v.(models.UpdateRecordingStatusOperationable)
	if !ok {
		return nil, &wrongType{v}
	}
	return op, nil
}

type wrongType struct{ v any }

func (w *wrongType) Error() string {
	return "GET returned " + typeName(w.v) + ", want an UpdateRecordingStatusOperation"
}

func wantStatus(t *testing.T, what string, op models.UpdateRecordingStatusOperationable, want models.OperationStatus) {
	t.Helper()
	if op == nil {
		t.Fatalf("%s: no operation", what)
	}
	if st := op.GetStatus(); st == nil || *st != want {
		t.Errorf("%s: status %v, want %v", what, st, want)
	}
}

// TestPendingThenNotified: a pending reply (running, notStarted), the GET
// of the operation, the fake's signed notification of the outcome, and the
// GET again.
func TestPendingThenNotified(t *testing.T) {
	for _, tc := range []struct {
		name    string
		pending string
		want    models.OperationStatus
	}{
		{"running", "running", models.RUNNING_OPERATIONSTATUS},
		{"notStarted", "notStarted", models.NOTSTARTED_OPERATIONSTATUS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := withTimeout(t, 10*time.Second)
			fake := newFake(t, graphtest.WithPascalCase())
			cb := newCallbackRecorder(t, fake)
			call := fake.AddCall("c").Then(graphtest.Fault{Kind: graphtest.KindPending, Status: tc.pending})
			sdk := newSDK(t, fake, testToken)

			op, err := sdk.update(ctx, "c", "ctx-pending", models.RECORDING_RECORDINGSTATUS)
			if err != nil {
				t.Fatalf("Post: %v", err)
			}
			wantStatus(t, "reply", op, tc.want)
			opID := deref(op.GetId())

			got, err := sdk.getOperation(ctx, "c", opID)
			if err != nil {
				t.Fatalf("GET operation: %v", err)
			}
			wantStatus(t, "GET before the notification", got, tc.want)
			if deref(got.GetId()) != opID || deref(got.GetClientContext()) != "ctx-pending" {
				t.Errorf("GET: id %q clientContext %q", deref(got.GetId()), deref(got.GetClientContext()))
			}

			d, err := call.Notify(ctx, graph.OperationCompleted)
			if err != nil || d.StatusCode != http.StatusAccepted {
				t.Fatalf("Notify: status %d, err %v", d.StatusCode, err)
			}
			rs := cb.received()
			if len(rs) != 1 {
				t.Fatalf("callback got %d notifications, want 1", len(rs))
			}
			r := rs[0]
			if !r.tokenOK {
				t.Errorf("the notification's token did not verify")
			}
			if r.changeType != "updated" || r.resourceURL != "/communications/calls/c/operations/"+opID {
				t.Errorf("notification changeType %q resourceUrl %q", r.changeType, r.resourceURL)
			}
			wantStatus(t, "notification", r.op, models.COMPLETED_OPERATIONSTATUS)
			if r.op != nil && (deref(r.op.GetId()) != opID || deref(r.op.GetClientContext()) != "ctx-pending") {
				t.Errorf("notification: id %q clientContext %q", deref(r.op.GetId()), deref(r.op.GetClientContext()))
			}

			got, err = sdk.getOperation(ctx, "c", opID)
			if err != nil {
				t.Fatalf("GET operation after the notification: %v", err)
			}
			wantStatus(t, "GET after the notification", got, models.COMPLETED_OPERATIONSTATUS)
		})
	}
}

// TestPendingThenFailedScripted: the scripted PendingThenFailed sends the
// failure on its own; the SDK reads its resultInfo in the notification and
// in the GET.
func TestPendingThenFailedScripted(t *testing.T) {
	ctx := withTimeout(t, 10*time.Second)
	fake := newFake(t, graphtest.WithPascalCase())
	cb := newCallbackRecorder(t, fake)
	ri := graph.ResultInfo{Code: 403, Subcode: 8506, Message: "not a compliance recording call"}
	fake.AddCall("c").Then(graphtest.PendingThenFailed(ri))
	sdk := newSDK(t, fake, testToken)

	op, err := sdk.update(ctx, "c", "ctx-f", models.RECORDING_RECORDINGSTATUS)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	wantStatus(t, "reply", op, models.RUNNING_OPERATIONSTATUS)
	if _, err := fake.WaitDeliveries(ctx, 1); err != nil {
		t.Fatalf("the scripted notification never came: %v", err)
	}
	rs := cb.received()
	if len(rs) != 1 || !rs[0].tokenOK {
		t.Fatalf("callback got %+v, want one genuine notification", rs)
	}
	wantStatus(t, "notification", rs[0].op, models.FAILED_OPERATIONSTATUS)
	wantResultInfo(t, "notification", rs[0].op, ri)

	got, err := sdk.getOperation(ctx, "c", deref(op.GetId()))
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	wantStatus(t, "GET", got, models.FAILED_OPERATIONSTATUS)
	wantResultInfo(t, "GET", got, ri)
}

func wantResultInfo(t *testing.T, what string, op models.UpdateRecordingStatusOperationable, want graph.ResultInfo) {
	t.Helper()
	if op == nil {
		return
	}
	ri := op.GetResultInfo()
	if ri == nil {
		t.Fatalf("%s: no resultInfo", what)
	}
	if int(deref(ri.GetCode())) != want.Code || int(deref(ri.GetSubcode())) != want.Subcode || deref(ri.GetMessage()) != want.Message {
		t.Errorf("%s: resultInfo %d/%d %q, want %d/%d %q", what, deref(ri.GetCode()), deref(ri.GetSubcode()), deref(ri.GetMessage()),
			want.Code, want.Subcode, want.Message)
	}
}

// TestReplyFailed: a failed operation in the reply itself, with its
// resultInfo.
func TestReplyFailed(t *testing.T) {
	fake := newFake(t, graphtest.WithPascalCase())
	ri := graph.ResultInfo{Code: 500, Subcode: 7000, Message: "recording status could not be set"}
	fake.AddCall("c").Then(graphtest.ReplyFailed(ri))
	o := run(t, fake, 10*time.Second, "c")
	if o.err != nil {
		t.Fatalf("Post: %v", o.err)
	}
	wantStatus(t, "reply", o.op, models.FAILED_OPERATIONSTATUS)
	wantResultInfo(t, "reply", o.op, ri)
}

// TestTermination: the fake ends the call (the termination notification
// parses as the SDK's call, state terminated); a later update and a GET of
// an earlier operation are 404.
func TestTermination(t *testing.T) {
	ctx := withTimeout(t, 10*time.Second)
	fake := newFake(t, graphtest.WithPascalCase())
	cb := newCallbackRecorder(t, fake)
	call := fake.AddCall("c")
	sdk := newSDK(t, fake, testToken)
	op, err := sdk.update(ctx, "c", "ctx-t", models.RECORDING_RECORDINGSTATUS)
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	wantStatus(t, "reply", op, models.COMPLETED_OPERATIONSTATUS)

	if d, err := call.End(ctx, nil); err != nil || d.StatusCode != http.StatusAccepted {
		t.Fatalf("End: status %d, err %v", d.StatusCode, err)
	}
	rs := cb.received()
	if len(rs) != 1 || !rs[0].tokenOK || rs[0].changeType != "deleted" || rs[0].resourceURL != "/communications/calls/c" {
		t.Fatalf("callback got %+v, want one genuine deleted notification for /communications/calls/c", rs)
	}
	if c := rs[0].call; c == nil || c.GetState() == nil || *c.GetState() != models.TERMINATED_CALLSTATE || deref(c.GetId()) != "c" {
		t.Errorf("termination: the SDK reads call %v, want id c, state terminated", rs[0].call)
	}

	_, err = sdk.update(ctx, "c", "ctx-t2", models.NOTRECORDING_RECORDINGSTATUS)
	wantODataError(t, outcome{err: err}, 404, "8501", "Call c not found or already terminated.")
	_, err = sdk.getOperation(ctx, "c", deref(op.GetId()))
	wantODataError(t, outcome{err: err}, 404, "8501", "")
}

// TestEndCallScripted: the EndCall fault answers 404 and notifies the end.
func TestEndCallScripted(t *testing.T) {
	ctx := withTimeout(t, 10*time.Second)
	fake := newFake(t, graphtest.WithPascalCase())
	cb := newCallbackRecorder(t, fake)
	fake.AddCall("c").Then(graphtest.EndCall())
	o := run(t, fake, 10*time.Second, "c")
	wantODataError(t, o, 404, "8501", "Call c not found or already terminated.")
	if _, err := fake.WaitDeliveries(ctx, 1); err != nil {
		t.Fatalf("no termination notification: %v", err)
	}
	if rs := cb.received(); len(rs) != 1 || rs[0].changeType != "deleted" || rs[0].call == nil {
		t.Errorf("callback got %+v, want the termination", rs)
	}
}
