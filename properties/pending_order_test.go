package properties

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/recgate/recgate/graph"
)

// A notification the suite sends for a pending operation is real only
// once the operation's reply is an event. A bot whose Start runs on its
// own goroutine got a real completed notification while its pending
// reply was on its way; the world, which had seen no reply yet, took the
// notification as about no attempt, and the bot that opened on it (as
// Graph had said completed) broke P4 (internal/roundten's AsyncStart,
// under -race). Here a goroutine asks for notifications while requests
// come and go, and every real one must follow its reply in the log (on
// the old Updater, 3 runs of 5 saw one come first; how many the goroutine
// sees depends on the scheduler, so none is not a failure). Once a
// pending reply has returned, its notification is real at once.
func TestNotificationFollowsItsReply(t *testing.T) {
	env := newEnv(suiteCallID, 1)
	u := env.Updater
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if op, real := u.update(graph.OperationRunning, false); real {
				env.observe(Event{Kind: EvUpdate, Outcome: OutcomePending, Label: op.ClientContext})
			}
			runtime.Gosched()
		}
	}()
	for i := 0; i < 3000; i++ {
		u.arm(&step{replies: []reply{{outcome: OutcomePending, text: "pending"}}})
		cc := fmt.Sprintf("rec-%d", i)
		if _, err := u.UpdateRecordingStatus(ctx, suiteCallID, graph.StatusRecording, cc); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			// The goroutine may take the notification first: it then
			// was real too. Either way one is real now or was.
			if op, real := u.update(graph.OperationRunning, false); !real && !sawUpdate(env, cc) || real && op.ClientContext != cc {
				t.Fatalf("after the pending reply to %s returned, its notification is not real (real %v, for %q)", cc, real, op.ClientContext)
			}
		}
		if _, err := u.UpdateRecordingStatus(ctx, suiteCallID, graph.StatusNotRecording, fmt.Sprintf("stop-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	replied := map[string]bool{}
	updates := 0
	for _, e := range env.events() {
		switch {
		case e.Kind == EvReply && e.Status == graph.StatusRecording:
			replied[e.ClientContext] = true
		case e.Kind == EvUpdate:
			updates++
			if !replied[e.Label] {
				t.Fatalf("a real notification for %s came before its reply was an event", e.Label)
			}
		}
	}
	t.Logf("%d real notifications from the goroutine, each after its reply", updates)
}

// sawUpdate reports whether the log holds a notification for cc.
func sawUpdate(env *Env, cc string) bool {
	for _, e := range env.events() {
		if e.Kind == EvUpdate && e.Label == cc {
			return true
		}
	}
	return false
}
