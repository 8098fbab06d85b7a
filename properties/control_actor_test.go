package properties

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// TestWaitsOnBot: a control call parked on a channel, a select or a
// WaitGroup in the bot's own code waits for the bot (a control actor's
// mailbox), one parked in fsm or the suite, or asleep, does not.
func TestWaitsOnBot(t *testing.T) {
	const actor = "goroutine 7 [select]:\n" +
		"runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/proc.go:435 +0xce\n" +
		"runtime.selectgo(0x0?, 0x0?, 0x0?, 0x0?, 0x0?, 0x0?)\n\t/go/src/runtime/select.go:351 +0x837\n" +
		"example.com/bot.(*actor).do(0xc000010000, {0x0, 0x0}, 0xc000020000)\n\t/bot/actor.go:80 +0x1c5\n" +
		"github.com/recgate/recgate/properties.(*runner).call.func2()\n\t/recgate/properties/play.go:180 +0x5a"
	cases := []struct {
		name, stack string
		want        bool
	}{
		{"a control actor's mailbox", actor, true},
		{"a select in a synctest bubble", strings.Replace(actor, "[select]", "[select (durable)]", 1), true},
		{"a WaitGroup of the bot's", "goroutine 9 [sync.WaitGroup.Wait]:\nruntime.gopark(...)\n\t/p.go:1\nsync.runtime_SemacquireWaitGroup(...)\n\t/s.go:1\nsync.(*WaitGroup).Wait(...)\n\t/w.go:1\nexample.com/bot.(*bot).CallEnded(...)\n\t/bot.go:1", true},
		{"fsm's lock", "goroutine 9 [chan receive]:\nruntime.gopark(...)\n\t/p.go:1\ngithub.com/recgate/recgate/fsm.(*Machine).lock(...)\n\t/fsm/lock.go:1\nexample.com/bot.(*bot).CallEnded(...)\n\t/bot.go:1", false},
		{"the suite's own wait", "goroutine 9 [select]:\nruntime.gopark(...)\n\t/p.go:1\ngithub.com/recgate/recgate/properties.(*runner).slowStorage(...)\n\t/play.go:1", false},
		{"asleep", "goroutine 9 [sleep]:\ntime.Sleep(...)\n\t/t.go:1\nexample.com/bot.(*bot).Stop(...)\n\t/bot.go:1", false},
		{"running", "goroutine 9 [running]:\nexample.com/bot.(*bot).Stop(...)\n\t/bot.go:1", false},
	}
	for _, c := range cases {
		if got := waitsOnBot([]byte(c.stack)); got != c.want {
			t.Errorf("%s: waitsOnBot = %v, want %v", c.name, got, c.want)
		}
	}
}

// A parked Start takes only a recording request; a parked Stop, Fail or
// CallEnded only a report (a background Start's retry sent while a Stop
// waits for it is not the Stop's); an update handler either.
func TestParkedTakes(t *testing.T) {
	rec, not, failed := graph.StatusRecording, graph.StatusNotRecording, graph.StatusFailed
	for _, c := range []struct {
		what   string
		status graph.Status
		want   bool
	}{
		{"Start", rec, true}, {"Start", not, false},
		{"Stop", not, true}, {"Stop", rec, false},
		{"Fail", failed, true}, {"Fail", rec, false},
		{"CallEnded", not, true}, {"CallEnded", rec, false},
		{"OperationUpdate", rec, true}, {"OperationUpdate", not, true},
	} {
		if got := parkedTakes(c.what, c.status); got != c.want {
			t.Errorf("a parked %s takes %s: %v, want %v", c.what, c.status, got, c.want)
		}
	}
}

// A goroutine inside an fsm.Updater shows it in its stack whatever the
// receiver: fsm.UpdaterFunc (a value of func type) as much as a pointer.
// Read from the running runtime, not from a string, so that a change of
// the stack format shows here.
func TestAGraphRequestIsSeenWhateverTheReceiver(t *testing.T) {
	started, release := make(chan uint64), make(chan struct{})
	u := fsm.UpdaterFunc(func(context.Context, string, graph.Status, string) (graph.Operation, error) {
		started <- goid()
		<-release
		return graph.Operation{}, nil
	})
	go func() { _, _ = u.UpdateRecordingStatus(context.Background(), "call", graph.StatusRecording, "cc") }()
	var g uint64
	select {
	case g = <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the updater's goroutine never started")
	}
	st := goroutineStack(allStacks(nil), g)
	close(release)
	if !bytes.Contains(st, graphRequestFrame) {
		t.Fatalf("a goroutine inside fsm.UpdaterFunc.UpdateRecordingStatus is not seen inside a Graph request:\n%s", st)
	}
	if bytes.Contains(st, suiteRequestFrame) {
		t.Fatalf("a bot's own updater is taken for the suite's:\n%s", st)
	}
}
