package fsm

import (
	"context"
	"strconv"
	"strings"
	"testing"

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
