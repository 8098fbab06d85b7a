package properties

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lateCopyBot is the reference wiring plus the bug a debounce timer
// brings: every persisted frame is written once more, on its own, a
// moment later and without a lease; once a recording ended that copy
// lands after notRecording, after the case that caused it is over.
type lateCopyBot struct {
	*referenceBot
	delay time.Duration
	mu    sync.Mutex
	sink  *Sink
}

func (b *lateCopyBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if err := b.referenceBot.Frame(ctx, stream, payload); err != nil {
		return err
	}
	p := append([]byte(nil), payload...)
	time.AfterFunc(b.delay, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		_, _ = b.sink.Write(stream, p)
	})
	return nil
}

func newLateCopyBot(delay time.Duration) Factory {
	return func(env *Env) (Bot, error) {
		ref, err := newReferenceBot(env, 0)
		if err != nil {
			return nil, err
		}
		return &lateCopyBot{referenceBot: ref, delay: delay, sink: env.Sink}, nil
	}
}

// TestLateWriteIsJudgedOnItsCase: a write a bot makes after its case ended
// (here a timer's, which the end-of-case grace period cannot see coming)
// is judged on that case's world, and fails the run with that case's
// report. Before the suite watched ended cases, this bot passed.
func TestLateWriteIsJudgedOnItsCase(t *testing.T) {
	v := RunSuite(newLateCopyBot(20*time.Millisecond), WithLateWindow(500*time.Millisecond))
	t.Log(v.Output)
	if v.Passed {
		t.Fatal("a bot whose timer writes a copy of each frame after notRecording passed the suite")
	}
	for _, want := range []string{"P1 ", "after its case had ended", "the case is over; what follows, the bot did later on its own"} {
		if !strings.Contains(v.Output, want) {
			t.Errorf("the report does not say %q:\n%s", want, v.Output)
		}
	}
}

// TestLateWindowZeroStillJudgesWhatLanded: with no window, what landed
// while later cases played is still judged. (A case takes a few
// milliseconds; a copy 30 ms late lands several cases later.)
func TestLateWindowZeroStillJudgesWhatLanded(t *testing.T) {
	v := RunSuite(newLateCopyBot(30*time.Millisecond), WithLateWindow(0))
	if v.Passed {
		t.Fatal("late copies that landed while later cases played passed unjudged")
	}
	if !strings.Contains(v.Output, "after its case had ended") {
		t.Errorf("the run failed, but not on a late write:\n%s", v.Output)
	}
}

func TestWithLateWindowRefusesNegative(t *testing.T) {
	if _, err := buildOptions([]Option{WithLateWindow(-time.Second)}); err == nil || !strings.Contains(err.Error(), "WithLateWindow") {
		t.Fatalf("WithLateWindow(-1s): err %v, want one naming the option", err)
	}
}
