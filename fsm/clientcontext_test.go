package fsm

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/qmuntal/stateless"

	"github.com/recgate/recgate/graph"
)

func TestIncrementDecimal(t *testing.T) {
	for _, n := range []uint64{0, 1, 8, 9, 10, 99, 199, 999, 1234, 9999999} {
		got := string(incrementDecimal([]byte(strconv.FormatUint(n, 10))))
		if want := strconv.FormatUint(n+1, 10); got != want {
			t.Errorf("incrementDecimal(%d) = %q, want %q", n, got, want)
		}
	}
}

// The batched clientContexts are the machine's prefix and consecutive
// sequence numbers, valid and distinct, across several batches and across
// a change in the number of digits.
func TestClientContextsAreConsecutiveAndValid(t *testing.T) {
	m, err := New("11111111-2222-3333-4444-555555555555", UpdaterFunc(func(context.Context, string, graph.Status, string) (graph.Operation, error) {
		return graph.Operation{}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	m.seq.Store(5) // the first batch then crosses from 9 to 10
	seen := map[string]bool{}
	for i := uint64(6); i < 6+3*clientContextBatch+1; i++ {
		cc, err := m.nextClientContext()
		if err != nil {
			t.Fatal(err)
		}
		if want := m.ccPrefix + strconv.FormatUint(i, 10); cc != want {
			t.Fatalf("clientContext %d = %q, want %q", i, cc, want)
		}
		if err := graph.ValidateClientContext(cc); err != nil || len(cc) > 54 || seen[cc] || !strings.HasPrefix(cc, "recgate-") {
			t.Fatalf("clientContext %q: invalid (%v), too long, repeated or without the prefix", cc, err)
		}
		seen[cc] = true
	}
}

// Every transition fire takes directly (directTable) is the one stateless
// takes for the same state and trigger, and the unguarded first step of a
// Stop is among them.
func TestDirectTransitionsAgreeWithStateless(t *testing.T) {
	direct := 0
	for from := range directTable {
		for trigger := range directTable[from] {
			to, ok := directTable[from][trigger], directTable[from][trigger] != noDirect
			if !ok {
				continue
			}
			direct++
			state := State(from)
			sm := stateless.NewStateMachineWithExternalStorage(
				func(context.Context) (stateless.State, error) { return state, nil },
				func(_ context.Context, s stateless.State) error { state = s.(State); return nil },
				stateless.FiringImmediate)
			configure(sm)
			if err := sm.FireCtx(context.Background(), Trigger(trigger)); err != nil || state != to {
				t.Errorf("%s -(%s)->: direct says %s, stateless went to %s (err %v)", State(from), Trigger(trigger), to, state, err)
			}
		}
	}
	if to, ok := directTable[Recording][Stop], directTable[Recording][Stop] != noDirect; !ok || to != Stopping {
		t.Errorf("Recording -(Stop)-> is not taken directly (got %v, %v)", to, ok)
	}
	if directTable[Stopping][Stop] != noDirect || directTable[NotRecording][Start] != noDirect || directTable[Ended][CallEnded] != noDirect {
		t.Error("a guarded or ignored transition is in the direct table")
	}
	t.Logf("%d transitions taken directly", direct)
}
