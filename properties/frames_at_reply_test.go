package properties

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// goPersistBot is ReferenceBot whose frame handler must not block (the
// media SDK's receive thread), so it hands each frame to a goroutine of
// its own, which takes the stream's lease when it runs: a frame that
// arrived while Start's request was out is written if its goroutine runs
// after Graph's completed.
type goPersistBot struct {
	*referenceBot
	wg sync.WaitGroup
}

func (b *goPersistBot) Frame(_ context.Context, stream int, p []byte) error {
	p = append([]byte(nil), p...)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		_ = b.referenceBot.Frame(context.Background(), stream, p)
	}()
	return nil
}

func (b *goPersistBot) Close(context.Context) error { b.wg.Wait(); return nil }

// TestAGoroutinePerFrameIsCaughtEveryRun: the reply to a request lands the
// moment the frames that arrived meanwhile were handed over, so such a bot
// is caught in every run. (Before, the goroutines a Frame started nearly
// always ran before the reply, and the bot passed two runs in three under
// -race.)
func TestAGoroutinePerFrameIsCaughtEveryRun(t *testing.T) {
	t.Parallel()
	newBot := func(env *Env) (Bot, error) {
		ref, err := newReferenceBot(env, 0)
		return &goPersistBot{referenceBot: ref}, err
	}
	for run := range 4 {
		v := RunSuite(newBot, WithoutNeighbourCall())
		if v.Passed {
			t.Fatalf("run %d: the suite passed a bot whose frame goroutines take their lease when they run", run+1)
		}
		if !strings.Contains(v.Output, "P7 ConsentCoversCapture") {
			t.Fatalf("run %d: the failure does not name P7:\n%.2000s", run+1, v.Output)
		}
	}
}
