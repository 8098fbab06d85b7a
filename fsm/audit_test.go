package fsm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

func auditedRun(t *testing.T) []byte {
	t.Helper()
	var trail bytes.Buffer
	u := (&fakeUpdater{}).then(reply{Status: graph.OperationRunning}, reply{Status: graph.OperationCompleted})
	m := newMachine(t, u, fsm.WithAuditTrail(&trail), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }))
	ctx := context.Background()
	op, err := m.Start(ctx)
	require.NoError(t, err)
	op.Status = graph.OperationCompleted
	require.NoError(t, m.OperationUpdate(ctx, op))
	require.NoError(t, m.Stop(ctx))
	require.NoError(t, m.CallEnded(ctx))
	require.NoError(t, m.AuditErr())
	return trail.Bytes()
}

func TestAuditTrailRecordsAndVerifies(t *testing.T) {
	trail := auditedRun(t)
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(trail))
	require.NoError(t, err)
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, string(r.Kind)+":"+r.Trigger+":"+r.To+r.Status)
		assert.Equal(t, callID, r.CallID)
	}
	joined := strings.Join(kinds, " ")
	for _, want := range []string{"request:Start:recording", "reply:Start:recording", "transition:Start:AwaitingConfirmation",
		"transition:OperationUpdate:Recording", "leases-drained:Stop:", "hook-ran:Stop:", "request:Stop:notRecording", "transition:CallEnded:Ended"} {
		assert.Contains(t, joined, want)
	}
	// The attempt and its clientContext are on the request and the reply.
	for _, r := range recs {
		if r.Kind == fsm.EventRequest || r.Kind == fsm.EventReply {
			assert.NotEmpty(t, r.ClientContext)
			assert.Equal(t, uint64(1), r.Attempt)
		}
		if r.Kind == fsm.EventReply {
			assert.NotEmpty(t, r.OperationID)
		}
	}
	// Order: the hook ran before notRecording was sent.
	assert.Less(t, strings.Index(joined, "hook-ran:Stop"), strings.Index(joined, "request:Stop:notRecording"))
}

func TestAuditTrailDetectsTampering(t *testing.T) {
	trail := auditedRun(t)
	lines := strings.Split(strings.TrimRight(string(trail), "\n"), "\n")
	require.Greater(t, len(lines), 6)
	join := func(ls []string) *strings.Reader { return strings.NewReader(strings.Join(ls, "\n") + "\n") }
	edit := func(i int, f func(map[string]any)) []string {
		out := append([]string(nil), lines...)
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(out[i]), &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		out[i] = string(b)
		return out
	}
	cases := map[string][]string{
		"line removed":        append(append([]string(nil), lines[:3]...), lines[4:]...),
		"first line removed":  lines[1:],
		"lines swapped":       append(append(append([]string(nil), lines[:2]...), lines[3], lines[2]), lines[4:]...),
		"field changed":       edit(3, func(m map[string]any) { m["status"] = "recording"; m["to"] = "Recording" }),
		"status forged":       edit(len(lines)-3, func(m map[string]any) { m["operationStatus"] = "completed" }),
		"time moved":          edit(2, func(m map[string]any) { m["time"] = "2001-01-01T00:00:00Z" }),
		"line duplicated":     append(append(append([]string(nil), lines[:3]...), lines[2]), lines[3:]...),
		"not json":            append(append([]string(nil), lines[:2]...), "garbage"),
		"unknown field added": edit(1, func(m map[string]any) { m["note"] = "edited" }),
		"other call":          edit(0, func(m map[string]any) { m["callId"] = "another" }),
	}
	for name, tampered := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := fsm.VerifyAuditTrail(join(tampered))
			require.Error(t, err)
			assert.True(t, errors.Is(err, fsm.ErrAuditTampered), "%v", err)
		})
	}
	_, err := fsm.VerifyAuditTrail(join(lines))
	assert.NoError(t, err, "the untouched trail verifies")
}

func TestAuditTrailHoldsNoToken(t *testing.T) {
	var trail bytes.Buffer
	u := (&fakeUpdater{}).then(reply{Err: &graph.Error{StatusCode: 401, Code: "InvalidAuthenticationToken", RequestID: "req-9"}})
	m := newMachine(t, u, fsm.WithAuditTrail(&trail))
	_, err := m.Start(context.Background())
	require.Error(t, err)
	assert.Contains(t, trail.String(), "req-9")
	assert.NotContains(t, trail.String(), "Bearer")
}

// Every record of a pending-then-confirmed call names the trigger that
// caused it; in particular the gate opens under OperationUpdate, not under
// Start (the zero Trigger), and the trail says how the confirmation came.
func TestAuditTrailNamesEveryTrigger(t *testing.T) {
	recs, err := fsm.VerifyAuditTrail(bytes.NewReader(auditedRun(t)))
	require.NoError(t, err)
	var got []string
	for _, r := range recs {
		step := string(r.Kind) + "/" + r.Trigger
		if r.GateOpen != nil {
			step += map[bool]string{true: "/open", false: "/closed"}[*r.GateOpen]
		}
		if r.Via != "" {
			step += "/via " + r.Via
		}
		got = append(got, step)
	}
	want := []string{
		"request/Start", "reply/Start/via reply", "transition/Start/via reply",
		"update/OperationUpdate/via caller", "authorized/OperationUpdate/via caller", "gate/OperationUpdate/open/via caller", "transition/OperationUpdate/via caller",
		"gate/Stop/closed", "leases-drained/Stop", "hook-ran/Stop", "transition/Stop",
		"request/Stop", "reply/Stop/via reply", "transition/Stop/via reply",
		"gate/CallEnded/closed", "transition/CallEnded",
	}
	assert.Equal(t, want, got)
	for _, r := range recs {
		assert.NotEmpty(t, r.Trigger, "record %d (%s) names no trigger", r.Seq, r.Kind)
	}
}
