package fsm_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
	"github.com/recgate/recgate/graph/graphtest"
)

// A throttled-then-pending-then-notified call, through the real client and
// the fake Graph. Only the trail is read afterwards, and it answers what a
// reviewer asks: what authorised the interval, when the gate opened and
// closed, and what was sent to Graph and when.
func TestAuditTrailAnswersTheReviewersQuestions(t *testing.T) {
	s := graphtest.NewServer(graphtest.WithToken("tok"))
	defer s.Close()
	s.AddCall(callID).Then(graphtest.Throttle("1"), graphtest.ReplyStatus("running"))
	client, err := graph.NewClient(graph.StaticToken("tok"), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()),
		graph.WithRetryAfterCap(2*time.Second))
	require.NoError(t, err)
	var trail bytes.Buffer
	m := newMachine(t, client, fsm.WithAuditTrail(&trail), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }))
	ctx := context.Background()
	op, err := m.Start(ctx)
	require.NoError(t, err)
	require.Equal(t, fsm.AwaitingConfirmation, m.State())
	done := op
	done.Status = graph.OperationCompleted
	require.NoError(t, m.Notify(ctx, graph.Notification{Kind: graph.NotificationOperation, CallID: callID, Operation: done,
		Issuer: "https://api.botframework.com", Tenant: "tenant-1"}))
	require.True(t, m.Gate().IsOpen())
	require.NoError(t, m.Stop(ctx))
	require.NoError(t, m.CallEnded(ctx))
	require.NoError(t, m.AuditErr())

	// From here on, only the trail.
	recs, err := fsm.VerifyAuditTrailHead(bytes.NewReader(trail.Bytes()), m.AuditHead())
	require.NoError(t, err)
	var attempts []fsm.AuditRecord
	for _, r := range recs {
		if r.Kind == fsm.EventAttempt && r.Status == "recording" {
			attempts = append(attempts, r)
		}
		assert.NotEqual(t, "missing", r.OperationStatus, "record %d", r.Seq)
	}
	// What was sent and when: the recording request's two HTTP attempts.
	require.Len(t, attempts, 2)
	assert.Equal(t, http.StatusTooManyRequests, attempts[0].HTTPStatus)
	assert.Equal(t, "1s", attempts[0].RetryAfter)
	assert.Equal(t, "TooManyRequests", attempts[0].ErrorCode)
	assert.Equal(t, http.StatusOK, attempts[1].HTTPStatus)
	assert.Equal(t, attempts[0].ClientRequestID, attempts[1].ClientRequestID)
	assert.NotEmpty(t, attempts[1].RequestID)
	assert.GreaterOrEqual(t, attempts[1].Time.Sub(attempts[0].Time), time.Second, "the retry waited out Retry-After")

	ivs := fsm.AuditIntervals(recs)
	require.Len(t, ivs, 1)
	iv := ivs[0]
	assert.Empty(t, iv.Findings)
	// What authorised it: the notified completion of the pending operation.
	require.NotNil(t, iv.Authorized)
	a := iv.Authorized
	assert.Equal(t, fsm.EventAuthorized, a.Kind)
	assert.Equal(t, "OperationUpdate", a.Trigger)
	assert.Equal(t, op.ID, a.OperationID)
	assert.Equal(t, op.ClientContext, a.ClientContext)
	assert.Equal(t, "completed", a.OperationStatus)
	assert.Equal(t, "notification", a.Via)
	assert.Equal(t, "https://api.botframework.com", a.Issuer)
	assert.Equal(t, "tenant-1", a.Tenant)
	// When the gate opened and closed, and what followed.
	assert.Equal(t, "OperationUpdate", iv.Opened.Trigger)
	require.NotNil(t, iv.Closed)
	assert.Equal(t, "Stop", iv.Closed.Trigger)
	assert.Less(t, a.Seq, iv.Opened.Seq)
	assert.False(t, iv.Closed.Time.Before(iv.Opened.Time))
	require.NotNil(t, iv.Report)
	assert.Equal(t, "notRecording", iv.Report.Status)
	assert.Greater(t, iv.Report.Seq, iv.Closed.Seq)
	require.NotNil(t, iv.ReportReply)
	assert.Equal(t, "completed", iv.ReportReply.OperationStatus)
	assert.NotEmpty(t, iv.ReportReply.RequestID)
	// The pending reply to the recording request is in the trail too.
	var pending []string
	for _, r := range recs {
		if r.Kind == fsm.EventReply && r.Status == "recording" {
			pending = append(pending, r.OperationStatus)
		}
	}
	assert.Equal(t, []string{"running"}, pending)
}

// An HTTP error is recorded with its status and Graph's code, and with no
// operation status: there was no operation.
func TestAuditTrailRecordsGraphErrorCodes(t *testing.T) {
	for name, c := range map[string]struct {
		fault graphtest.Fault
		code  string
	}{
		"8506":      {graphtest.NonCompliant(), graph.CodeNonComplianceCall},
		"forbidden": {graphtest.Forbidden(), "Forbidden"},
	} {
		t.Run(name, func(t *testing.T) {
			s := graphtest.NewServer(graphtest.WithToken("tok"))
			defer s.Close()
			s.AddCall(callID).Then(c.fault)
			client, err := graph.NewClient(graph.StaticToken("tok"), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
			require.NoError(t, err)
			var trail bytes.Buffer
			m := newMachine(t, client, fsm.WithAuditTrail(&trail))
			_, err = m.Start(context.Background())
			require.Error(t, err)
			recs, err := fsm.VerifyAuditTrail(bytes.NewReader(trail.Bytes()))
			require.NoError(t, err)
			var reply *fsm.AuditRecord
			for i := range recs {
				if recs[i].Kind == fsm.EventReply {
					reply = &recs[i]
				}
			}
			require.NotNil(t, reply)
			assert.Equal(t, http.StatusForbidden, reply.HTTPStatus)
			assert.Equal(t, c.code, reply.ErrorCode)
			assert.Empty(t, reply.OperationStatus, "an HTTP error has no operation status")
			assert.NotEmpty(t, reply.ClientRequestID)
			assert.NotEmpty(t, reply.Error)
			assert.Empty(t, fsm.AuditIntervals(recs))
		})
	}
}

// A failed operation is recorded with its id, status and resultInfo.
func TestAuditTrailRecordsFailedOperations(t *testing.T) {
	s := graphtest.NewServer(graphtest.WithToken("tok"))
	defer s.Close()
	s.AddCall(callID).Then(graphtest.ReplyFailed(graph.ResultInfo{Code: 403, Subcode: 8506, Message: "not compliance"}))
	client, err := graph.NewClient(graph.StaticToken("tok"), graph.WithBaseURL(s.BaseURL()), graph.WithHTTPClient(s.Client()))
	require.NoError(t, err)
	var trail bytes.Buffer
	m := newMachine(t, client, fsm.WithAuditTrail(&trail))
	_, err = m.Start(context.Background())
	require.Error(t, err)
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(trail.Bytes()))
	require.NoError(t, err)
	last := recs[len(recs)-1]
	require.Equal(t, fsm.EventReply, last.Kind)
	assert.Equal(t, "failed", last.OperationStatus)
	assert.NotEmpty(t, last.OperationID)
	assert.Contains(t, last.ResultInfo, "8506")
}

// A trail without authorized records (written before recgate recorded
// them) still names the completed reply as what authorised the interval;
// an opening nothing authorised is a finding.
func TestAuditIntervalsFromOlderAndForgedTrails(t *testing.T) {
	open, closed := true, false
	recs := []fsm.AuditRecord{
		{Seq: 1, Kind: fsm.EventRequest, Status: "recording", ClientContext: "cc-1"},
		{Seq: 2, Kind: fsm.EventReply, Status: "recording", ClientContext: "cc-1", OperationID: "op-1", OperationStatus: "completed"},
		{Seq: 3, Kind: fsm.EventGate, GateOpen: &open},
		{Seq: 4, Kind: fsm.EventGate, GateOpen: &closed},
		{Seq: 5, Kind: fsm.EventRequest, Status: "notRecording", ClientContext: "cc-2"},
		{Seq: 6, Kind: fsm.EventGate, GateOpen: &open},
	}
	ivs := fsm.AuditIntervals(recs)
	require.Len(t, ivs, 2)
	require.NotNil(t, ivs[0].Authorized)
	assert.Equal(t, "op-1", ivs[0].Authorized.OperationID)
	require.NotNil(t, ivs[0].Report)
	assert.Contains(t, strings.Join(ivs[0].Findings, " "), "before the leases drained")
	assert.Nil(t, ivs[1].Authorized)
	assert.Contains(t, strings.Join(ivs[1].Findings, " "), "nothing in the trail authorised")
	assert.Contains(t, strings.Join(ivs[1].Findings, " "), "ends with the gate open")
}
