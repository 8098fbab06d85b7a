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
// come and go, and every real one must follow its reply in the log.
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
		if _, err := u.UpdateRecordingStatus(ctx, suiteCallID, graph.StatusRecording, fmt.Sprintf("rec-%d", i)); err != nil {
			t.Fatal(err)
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
	if updates == 0 {
		t.Fatal("no notification was real: the test tested nothing")
	}
	t.Logf("%d real notifications, each after its reply", updates)
}
