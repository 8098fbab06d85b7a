package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// goodTrail plays a pending-then-notified recording, Stop and the end of
// the call, and returns the trail and its head.
func goodTrail(t *testing.T) (string, string) {
	t.Helper()
	n := 0
	u := fsm.UpdaterFunc(func(_ context.Context, _ string, s graph.Status, cc string) (graph.Operation, error) {
		n++
		st := graph.OperationCompleted
		if s == graph.StatusRecording {
			st = graph.OperationRunning
		}
		return graph.Operation{ID: fmt.Sprintf("op-%d", n), ClientContext: cc, Status: st, RequestID: fmt.Sprintf("req-%d", n)}, nil
	})
	var trail bytes.Buffer
	m, err := fsm.New("call-1", u, fsm.WithAuditTrail(&trail), fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return nil }))
	require.NoError(t, err)
	ctx := context.Background()
	op, err := m.Start(ctx)
	require.NoError(t, err)
	op.Status = graph.OperationCompleted
	require.NoError(t, m.Notify(ctx, graph.Notification{Kind: graph.NotificationOperation, CallID: "call-1", Operation: op, Issuer: "iss-1", Tenant: "tid-1"}))
	require.NoError(t, m.Stop(ctx))
	require.NoError(t, m.CallEnded(ctx))
	return trail.String(), m.AuditHead()
}

func verify(t *testing.T, trail string, args ...string) (int, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	require.NoError(t, os.WriteFile(path, []byte(trail), 0o600))
	var out, errOut bytes.Buffer
	code := run(append(args, path), nil, &out, &errOut)
	return code, out.String() + errOut.String()
}

func TestVerifiesAGoodTrailAndPrintsItsInterval(t *testing.T) {
	trail, head := goodTrail(t)
	code, out := verify(t, trail, "-head", head)
	require.Equal(t, exitVerified, code, out)
	for _, want := range []string{
		"verified", "the last line's hash is the head you gave",
		"1 recorded interval(s)",
		"authorised by   record", "operation op-1", "completed, by a notification whose token was validated (issuer iss-1, tenant tid-1)",
		"gate opened     record", "(OperationUpdate)",
		"gate closed     record", "(Stop)",
		"then reported   record", ": notRecording (clientContext",
		"Graph answered  record", "completed (operation op-2, request-id req-2)",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "FINDING")
	// Without a head it still verifies, and says what it did not check.
	code, out = verify(t, trail)
	assert.Equal(t, exitVerified, code)
	assert.Contains(t, out, "head not checked (no -head)")
	assert.Contains(t, out, head)
}

func TestRefusesTamperedTrails(t *testing.T) {
	trail, head := goodTrail(t)
	lines := strings.Split(strings.TrimRight(trail, "\n"), "\n")
	require.Greater(t, len(lines), 8)
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	changed := append([]string(nil), lines...)
	var rec map[string]any
	require.NoError(t, json.Unmarshal([]byte(changed[4]), &rec))
	rec["via"] = "reply"
	b, _ := json.Marshal(rec)
	changed[4] = string(b)
	for name, c := range map[string]struct {
		trail string
		args  []string
	}{
		"line removed":    {join(append(append([]string(nil), lines[:5]...), lines[6:]...)), nil},
		"line changed":    {join(changed), nil},
		"lines reordered": {join(append(append(append([]string(nil), lines[:3]...), lines[4], lines[3]), lines[5:]...)), nil},
		"last line cut":   {join(lines[:len(lines)-1]), []string{"-head", head}},
		"empty":           {"", nil},
		"not a trail":     {"hello\n", nil},
		"head of another": {trail, []string{"-head", strings.Repeat("ab", 32)}},
	} {
		t.Run(name, func(t *testing.T) {
			code, out := verify(t, c.trail, c.args...)
			assert.Equal(t, exitBroken, code, out)
			assert.Contains(t, out, "DOES NOT VERIFY")
		})
	}
}

// A trail whose chain is intact but which shows an opening that nothing
// authorised exits 3 and says so.
func TestFindingsExitThree(t *testing.T) {
	open := true
	r := fsm.AuditRecord{Seq: 1, CallID: "call-1", Kind: fsm.EventGate, Trigger: "Start", GateOpen: &open}
	r.Prev = genesisForTest("call-1")
	line, err := json.Marshal(r)
	require.NoError(t, err)
	code, out := verify(t, string(line)+"\n")
	assert.Equal(t, exitFindings, code, out)
	assert.Contains(t, out, "authorised by   NOTHING")
	assert.Contains(t, out, "FINDING: the trail ends with the gate open")
}

func TestUsage(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, exitVerified, run([]string{"-h"}, nil, &out, &out))
	assert.Contains(t, out.String(), "usage: recgate-verify")
	assert.Equal(t, exitUsage, run(nil, nil, &out, &out))
	assert.Equal(t, exitUsage, run([]string{"a", "b"}, nil, &out, &out))
	assert.Equal(t, exitUsage, run([]string{"-head", "xyz", "a"}, nil, &out, &out))
	assert.Equal(t, exitUsage, run([]string{filepath.Join(t.TempDir(), "missing.jsonl")}, nil, &out, &out))
	trail, _ := goodTrail(t)
	out.Reset()
	assert.Equal(t, exitVerified, run([]string{"-"}, strings.NewReader(trail), &out, &out), out.String())
}

// genesisForTest is the first line's prev, as fsm computes it.
func genesisForTest(callID string) string {
	sum := sha256.Sum256([]byte("recgate audit trail for call " + callID))
	return hex.EncodeToString(sum[:])
}
