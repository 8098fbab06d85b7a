package graph_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/graph"
)

// The API page's own bodies.
const (
	pageRequest = `{
  "clientContext": "clientContext-value",
  "status": "notRecording | recording | failed"
}`
	pageReply = `{
  "@odata.type": "#microsoft.graph.updateRecordingStatusOperation",
  "clientContext": "clientContext-value",
  "id": "0fe0623f-d628-42ed-b4bd-8ac290072cc5",
  "resultInfo": null,
  "status": "completed"
}`
)

func TestParseOperationFromAPIPage(t *testing.T) {
	op, err := graph.ParseOperation([]byte(pageReply))
	require.NoError(t, err)
	assert.Equal(t, graph.OperationODataType, op.ODataType)
	assert.Equal(t, "clientContext-value", op.ClientContext)
	assert.Equal(t, "0fe0623f-d628-42ed-b4bd-8ac290072cc5", op.ID)
	assert.Nil(t, op.ResultInfo)
	assert.Equal(t, graph.OperationCompleted, op.Status)
	assert.True(t, op.Status.Confirmed())
	assert.NoError(t, op.Err())
}

func TestAPIPageRequestStatusIsAPlaceholder(t *testing.T) {
	// The page's request body lists the choices in one string; it is not a
	// status, and parsing it must say so.
	var body struct {
		ClientContext string       `json:"clientContext"`
		Status        graph.Status `json:"status"`
	}
	err := json.Unmarshal([]byte(pageRequest), &body)
	assert.ErrorContains(t, err, "unknown recording status")
}

func TestOperationStatusCaseInsensitive(t *testing.T) {
	for in, want := range map[string]graph.OperationStatus{
		`"completed"`: graph.OperationCompleted, `"Completed"`: graph.OperationCompleted, `"COMPLETED"`: graph.OperationCompleted,
		`"notStarted"`: graph.OperationNotStarted, `"NotStarted"`: graph.OperationNotStarted,
		`"running"`: graph.OperationRunning, `"Running"`: graph.OperationRunning,
		`"failed"`: graph.OperationFailed, `"Failed"`: graph.OperationFailed,
		`null`: "",
	} {
		var s graph.OperationStatus
		require.NoError(t, json.Unmarshal([]byte(in), &s), in)
		assert.Equal(t, want, s, in)
	}
}

func TestOperationStatusMeaning(t *testing.T) {
	cases := []struct {
		s                                   graph.OperationStatus
		confirmed, pending, refused, accept bool
	}{
		{graph.OperationCompleted, true, false, false, true},
		{graph.OperationNotStarted, false, true, false, true},
		{graph.OperationRunning, false, true, false, true},
		{"", false, true, false, true},
		{graph.OperationFailed, false, false, true, false},
		{"Exploded", false, false, false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.confirmed, c.s.Confirmed(), "%q confirmed", c.s)
		assert.Equal(t, c.pending, c.s.Pending(), "%q pending", c.s)
		assert.Equal(t, c.refused, c.s.Refused(), "%q refused", c.s)
		assert.Equal(t, c.accept, c.s.Accepted(), "%q accepted", c.s)
	}
}

func TestUnknownOperationStatusIsAnError(t *testing.T) {
	for _, body := range []string{
		`{"status": "succeeded"}`,
		`{"status": "complete"}`,
		`{"status": 1}`,
		`{"status": ""}`, // parses as missing: pending
	} {
		op, err := graph.ParseOperation([]byte(body))
		if body == `{"status": ""}` {
			require.NoError(t, err)
			assert.True(t, op.Status.Pending())
			continue
		}
		assert.Error(t, err, body)
		assert.False(t, op.Status.Confirmed(), body)
	}
	for _, body := range []string{``, `[`, `"x"`, `{"id": }`} {
		_, err := graph.ParseOperation([]byte(body))
		assert.Error(t, err, "%q", body)
	}
}

func TestMissingStatusIsPending(t *testing.T) {
	op, err := graph.ParseOperation([]byte(`{"id": "x", "clientContext": "c"}`))
	require.NoError(t, err)
	assert.True(t, op.Status.Pending())
	assert.False(t, op.Status.Confirmed())
	assert.Equal(t, "missing", op.Status.String())
}

func TestFailedOperationCarriesResultInfo(t *testing.T) {
	op, err := graph.ParseOperation([]byte(`{
		"@odata.type": "#microsoft.graph.updateRecordingStatusOperation",
		"clientContext": "c-1", "id": "op-1", "status": "Failed",
		"resultInfo": {"code": 403, "subcode": 8506, "message": "API call not allowed for non-Compliance Recording call"}}`))
	require.NoError(t, err)
	err = op.Err()
	require.Error(t, err)
	assert.True(t, errors.Is(err, graph.ErrOperationFailed))
	var oe *graph.OperationError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, 8506, oe.Operation.ResultInfo.Subcode)
	assert.Contains(t, err.Error(), "code 403, subcode 8506")
	assert.Contains(t, err.Error(), "op-1")
}

func TestStatusJSON(t *testing.T) {
	for _, s := range []graph.Status{graph.StatusNotRecording, graph.StatusRecording, graph.StatusFailed} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back graph.Status
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
		assert.True(t, s.Valid())
	}
	var s graph.Status
	require.NoError(t, json.Unmarshal([]byte(`"NotRecording"`), &s))
	assert.Equal(t, graph.StatusNotRecording, s)
	_, err := json.Marshal(graph.Status("paused"))
	assert.Error(t, err)
	assert.False(t, graph.Status("Recording").Valid(), "only the canonical spelling is valid to send")
	_, err = graph.ParseStatus("paused")
	assert.ErrorContains(t, err, "want notRecording, recording or failed")
}

func TestOperationJSONRoundTrip(t *testing.T) {
	op := graph.Operation{ODataType: graph.OperationODataType, ID: "i", ClientContext: "c", Status: graph.OperationRunning, Location: "https://x", RequestID: "r"}
	b, err := json.Marshal(op)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "https://x", "headers are not body fields")
	back, err := graph.ParseOperation(b)
	require.NoError(t, err)
	assert.Equal(t, graph.OperationRunning, back.Status)
	_, err = json.Marshal(graph.Operation{Status: "weird"})
	assert.Error(t, err)
}

func TestErrorMessagesAndClassification(t *testing.T) {
	e := &graph.Error{StatusCode: 403, Code: "8506", Message: "API call not allowed for non-Compliance Recording call",
		RequestID: "req-1", ClientRequestID: "cli-1"}
	var target *graph.Error
	require.True(t, errors.As(error(e), &target))
	assert.True(t, e.NonCompliance())
	assert.False(t, e.Temporary())
	msg := e.Error()
	for _, want := range []string{"403", "8506", "compliance recording policy", "req-1", "cli-1"} {
		assert.Contains(t, msg, want)
	}
	inner := &graph.Error{StatusCode: 403, Code: "Forbidden", InnerCodes: []string{"8506"}}
	assert.True(t, inner.NonCompliance())

	for code, temp := range map[int]bool{429: true, 503: true, 504: true, 500: false, 400: false, 404: false} {
		assert.Equal(t, temp, (&graph.Error{StatusCode: code}).Temporary(), "HTTP %d", code)
	}
	assert.Contains(t, (&graph.Error{StatusCode: 401}).Error(), "token")
	assert.Contains(t, (&graph.Error{StatusCode: 403}).Error(), "Calls.AccessMedia.All")
	assert.Contains(t, (&graph.Error{StatusCode: 404}).Error(), "call ID")
}

func TestValidateCallID(t *testing.T) {
	assert.NoError(t, graph.ValidateCallID("57dab8b1-894c-409a-b240-bd8beae78896"))
	for _, bad := range []string{"", "a/b", "a?b", "a#b", "a%b", "a b", "a\tb", "\x7f", "\xff\xfe", strings.Repeat("a", graph.MaxCallIDLen+1)} {
		err := graph.ValidateCallID(bad)
		assert.ErrorIs(t, err, graph.ErrInvalidCallID, "%q", bad)
	}
	// Path dot-segments name another resource once a front end normalises
	// the path: refused, and the error says why.
	for _, dot := range []string{".", ".."} {
		assert.ErrorContains(t, graph.ValidateCallID(dot), "dot-segment", "%q", dot)
	}
	for _, fine := range []string{"...", ".a", "a.", "a..b"} {
		assert.NoError(t, graph.ValidateCallID(fine), "%q is not a dot-segment", fine)
	}
}

func TestValidateClientContext(t *testing.T) {
	assert.NoError(t, graph.ValidateClientContext(strings.Repeat("é", graph.MaxClientContextLen)))
	assert.ErrorIs(t, graph.ValidateClientContext(""), graph.ErrInvalidClientContext)
	assert.ErrorIs(t, graph.ValidateClientContext(strings.Repeat("a", graph.MaxClientContextLen+1)), graph.ErrInvalidClientContext)
}
