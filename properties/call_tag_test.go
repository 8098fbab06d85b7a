package properties

import (
	"context"
	"sync"
	"testing"
)

// stopsEarlierRecordings is the reference bot in a process whose CallEnded
// first stops every other recording under way, also that of a call an
// earlier case left recording (the process keeps it): within the rule,
// since each Stop closes that call's gate, drains it, runs its hook and
// reports through that call's own Graph.
type stopsEarlierRecordings struct {
	*referenceBot
	others func() []*referenceBot
}

func (b *stopsEarlierRecordings) CallEnded(ctx context.Context) error {
	for _, o := range b.others() {
		if o != b.referenceBot && o.m.Gate().IsOpen() {
			_ = o.m.Stop(ctx)
		}
	}
	return b.referenceBot.CallEnded(ctx)
}

// TestAnEarlierCallsRecordingMayBeStoppedLater: a report a later case's
// CallEnded sends for an earlier case's call, on its own context, is no
// event of that earlier call's (the context tag named no call, so the
// report counted as a second request of the earlier call's Start: P3,
// 8 runs in 10 with WithoutNeighbourCall).
func TestAnEarlierCallsRecordingMayBeStoppedLater(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var mu sync.Mutex
	var calls []*referenceBot
	factory := func(env *Env) (Bot, error) {
		b, err := newReferenceBot(env, 0)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		if calls = append(calls, b); len(calls) > 8 {
			calls = calls[len(calls)-8:]
		}
		mu.Unlock()
		return &stopsEarlierRecordings{referenceBot: b, others: func() []*referenceBot {
			mu.Lock()
			defer mu.Unlock()
			return append([]*referenceBot(nil), calls...)
		}}, nil
	}
	for run := 0; run < 3; run++ {
		if v := RunSuite(factory, WithoutNeighbourCall()); !v.Passed {
			t.Fatalf("run %d: a bot whose CallEnded stops an earlier call's recording (within the rule) failed:\n%.4000s", run, v.Output)
		}
	}
}
