package properties

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// lateCopies is the bug a debounce timer brings, made deterministic: the
// bot keeps a copy of every frame it persisted and writes the copies, on
// their own and without a lease, later; here when the next case's bot is
// built, which is after the case they belong to has ended (the suite
// builds each case's bots after the previous case is over). Those copies
// land after notRecording, or after the call ended.
type lateCopies struct {
	mu      sync.Mutex
	pending func() // writes the previous case's copies
}

func (l *lateCopies) factory(env *Env) (Bot, error) {
	if env.neighbour {
		// The neighbouring call is built right after the call under
		// test, inside the same case: its copies would not be late.
		return newReferenceBot(env, 0)
	}
	l.mu.Lock()
	if l.pending != nil {
		l.pending()
	}
	l.mu.Unlock()
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	b := &lateCopyBot{referenceBot: ref, sink: env.Sink}
	l.mu.Lock()
	l.pending = b.writeCopies
	l.mu.Unlock()
	return b, nil
}

type lateCopyBot struct {
	*referenceBot
	sink   *Sink
	mu     sync.Mutex
	copies []copied
}

type copied struct {
	stream  int
	payload []byte
}

func (b *lateCopyBot) Frame(ctx context.Context, stream int, payload []byte) error {
	if err := b.referenceBot.Frame(ctx, stream, payload); err != nil {
		return err
	}
	b.mu.Lock()
	b.copies = append(b.copies, copied{stream, append([]byte(nil), payload...)})
	b.mu.Unlock()
	return nil
}

func (b *lateCopyBot) writeCopies() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.copies {
		_, _ = b.sink.Write(c.stream, c.payload)
	}
	b.copies = nil
}

// TestLateWriteIsJudgedOnItsCase: a write a bot makes after its case ended
// is judged on that case's world, and fails the run with that case's
// report. Before the suite watched ended cases, this bot passed.
func TestLateWriteIsJudgedOnItsCase(t *testing.T) {
	var l lateCopies
	v := RunSuite(l.factory)
	if v.Passed {
		t.Fatal("a bot that writes copies of its frames after notRecording, after the case, passed the suite")
	}
	// A copy lands after notRecording or after the call ended (P1), or, if
	// the case ended inside a later recording, in an interval its frame
	// did not arrive in (P7).
	if !strings.Contains(v.Output, "P1 ") && !strings.Contains(v.Output, "P7 ") {
		t.Errorf("the report names neither P1 nor P7:\n%s", v.Output)
	}
	for _, want := range []string{"after its case had ended", "the case is over; what follows, the bot did later on its own"} {
		if !strings.Contains(v.Output, want) {
			t.Errorf("the report does not say %q:\n%s", want, v.Output)
		}
	}
}

// TestLateWindowZeroStillJudgesWhatLanded: with no window, what landed
// while later cases played is still judged.
func TestLateWindowZeroStillJudgesWhatLanded(t *testing.T) {
	var l lateCopies
	v := RunSuite(l.factory, WithLateWindow(0))
	if v.Passed || !strings.Contains(v.Output, "after its case had ended") {
		t.Fatalf("late copies that landed while later cases played were not judged (passed: %v):\n%s", v.Passed, v.Output)
	}
}

func TestWithLateWindowRefusesNegative(t *testing.T) {
	if _, err := buildOptions([]Option{WithLateWindow(-time.Second)}); err == nil || !strings.Contains(err.Error(), "WithLateWindow") {
		t.Fatalf("WithLateWindow(-1s): err %v, want one naming the option", err)
	}
}

// TestLateWriteIsNotTakenForInterference: the noninterference check plays
// a passed case again with a new bot; a write the first bot makes
// meanwhile is late (its case ended before the replay), not a difference
// the other media made (found in review: the run failed as
// "noninterference violated" and the late write went unreported).
func TestLateWriteIsNotTakenForInterference(t *testing.T) {
	var l lateCopies
	v := RunSuite(l.factory, WithNoninterference())
	if v.Passed {
		t.Fatal("late copies passed under WithNoninterference")
	}
	if strings.Contains(v.Output, "noninterference violated") || !strings.Contains(v.Output, "after its case had ended") {
		t.Fatalf("the late copies were not reported as late:\n%.3000s", v.Output)
	}
}
