package properties

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// Options out of range are refused with an error that names them, never
// taken and overflowed later ("did not finish within -1281023h...").
func TestOptionsOutOfRangeAreRefused(t *testing.T) {
	for name, opt := range map[string]Option{
		"WithTimeout(MaxInt64)":     WithTimeout(math.MaxInt64),
		"WithTimeout(MaxTimeout+1)": WithTimeout(MaxTimeout + time.Nanosecond),
		"WithGrace(MaxInt64)":       WithGrace(math.MaxInt64),
		"WithLateWindow(MaxInt64)":  WithLateWindow(math.MaxInt64),
		"WithUntracedStreams(-1)":   WithUntracedStreams(0, -1),
	} {
		if _, err := buildOptions([]Option{opt}); err == nil {
			t.Errorf("%s was accepted", name)
		} else if !strings.Contains(err.Error(), "properties: With") {
			t.Errorf("%s: the error does not name the option: %v", name, err)
		}
	}
	if _, err := buildOptions([]Option{WithTimeout(MaxTimeout)}); err != nil {
		t.Errorf("WithTimeout(MaxTimeout) refused: %v", err)
	}
}

// A write to a negative stream (an off-by-one in the bot) is refused, not
// stored somewhere no check looks.
func TestSinkRefusesANegativeStream(t *testing.T) {
	env := newEnv(suiteCallID, 2)
	n, err := env.Sink.Write(-1, []byte("zqaaaaaa"))
	if err == nil || n != 0 || !strings.Contains(err.Error(), "Sink.Write(-1") {
		t.Fatalf("Sink.Write(-1, ...) = %d, %v: want 0 and an error naming the stream", n, err)
	}
	if env.Sink.Persisted() != 0 {
		t.Fatal("the refused write was stored")
	}
}

func TestCheckWithoutATestSaysSo(t *testing.T) {
	defer func() {
		msg, _ := recover().(string)
		if !strings.Contains(msg, "Check(nil") {
			t.Fatalf("Check(nil, ...) panicked with %q: want a message naming the nil *testing.T", msg)
		}
	}()
	Check(nil, ReferenceBot)
}

// Storage fails the first write that carries a chosen frame, whenever it
// comes, and stores its retry: the choice depends on content, not timing.
func TestStorageFaultFailsAFramesFirstWriteOnly(t *testing.T) {
	r := &runner{sc: scenario{streams: 1, faultEvery: 2}, env: newEnv(suiteCallID, 1)}
	two, three := []Origin{{Frame: 2}}, []Origin{{Frame: 3}}
	if r.storageFault(0, three) {
		t.Fatal("frame 3 failed: faultEvery 2 chooses even frames only")
	}
	if !r.storageFault(0, two) {
		t.Fatal("frame 2's first write did not fail")
	}
	if r.storageFault(0, two) {
		t.Fatal("frame 2's retry failed again: only the first write fails")
	}
	if r.storageFault(0, nil) {
		t.Fatal("a write with no frame in it (a header) failed")
	}
	if r.storageFault(0, []Origin{{Frame: 2}, {Frame: 4}}) {
		t.Fatal("a batched retry of frame 2 failed because it also carries frame 4: a retry must succeed")
	}
	if n := r.env.stats.storageFaults.Load(); n != 1 {
		t.Fatalf("%d faults counted, want 1", n)
	}
}

// A factory that cannot build a bot is a wiring mistake, not a drawn case:
// it is reported once, before any case, and nothing is saved to replay.
func TestFactoryErrorIsReportedBeforeAnyCase(t *testing.T) {
	calls := 0
	v := RunSuite(func(*Env) (Bot, error) {
		calls++
		return nil, errors.New("no storage configured")
	})
	if v.Passed {
		t.Fatal("a factory that always fails passed")
	}
	if calls != 1 || !strings.Contains(v.Output, "before any case ran") || !strings.Contains(v.Output, "no storage configured") {
		t.Fatalf("factory called %d times; output:\n%s\nwant one call and a report that no case ran, with the factory's error", calls, v.Output)
	}
	if strings.Contains(v.Output, "rapid.seed") || strings.Contains(v.Output, "-rapid.failfile") {
		t.Fatalf("a wiring mistake is reported as a case to replay:\n%s", v.Output)
	}
}

// A factory that panics, or a Close that hangs, is a wiring mistake too:
// reported as such, without crashing or hanging the run.
func TestFactoryPanicOrHangIsReported(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for name, c := range map[string]struct {
		factory Factory
		want    string
	}{
		"panic": {func(*Env) (Bot, error) { panic("factory bug") }, "panicked"},
		"close hangs": {func(env *Env) (Bot, error) {
			b, err := ReferenceBot(env)
			return hangingCloser{b, release}, err
		}, "Close had not returned"},
	} {
		v := RunSuite(c.factory, WithTimeout(50*time.Millisecond))
		if v.Passed || !strings.Contains(v.Output, c.want) || !strings.Contains(v.Output, "before any case ran") {
			t.Errorf("%s: passed=%v, output:\n%s\nwant a failure before any case that says %q", name, v.Passed, v.Output, c.want)
		}
	}
}

type hangingCloser struct {
	Bot
	release chan struct{}
}

func (h hangingCloser) Close(context.Context) error { <-h.release; return nil }
