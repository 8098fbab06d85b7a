package properties

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/graph"
)

func TestReferenceBotPassesTheSuite(t *testing.T) {
	Check(t, ReferenceBot)
}

// silentBot keeps every rule by never persisting anything.
type silentBot struct {
	env   *Env
	ended *atomic.Bool
	mu    *sync.Mutex // one request at a time (P6)
	seq   *atomic.Int64
}

func (b silentBot) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended.Load() {
		return errors.New("the call has ended")
	}
	_, err := b.env.Updater.UpdateRecordingStatus(ctx, b.env.CallID, graph.StatusRecording, fmt.Sprintf("silent-%d", b.seq.Add(1)))
	return err
}
func (silentBot) Stop(context.Context) error                             { return nil }
func (silentBot) Fail(context.Context) error                             { return nil }
func (silentBot) OperationUpdate(context.Context, graph.Operation) error { return nil }
func (silentBot) Frame(context.Context, int, []byte) error               { return nil }
func (b silentBot) CallEnded(context.Context) error                      { b.ended.Store(true); return nil }

// A run that never saw a frame persisted proved nothing, and says so.
func TestVacuousRunFails(t *testing.T) {
	v := RunSuite(func(env *Env) (Bot, error) {
		return silentBot{env, new(atomic.Bool), new(sync.Mutex), new(atomic.Int64)}, nil
	})
	if v.Passed {
		t.Fatalf("a bot that persists nothing passed: %s", v.Coverage)
	}
	if !strings.Contains(v.Output, "vacuous") || !strings.Contains(v.Output, "the bot never persisted a frame the suite sent") {
		t.Fatalf("the failure does not say the run was vacuous, through the bot's doing:\n%.3000s", v.Output)
	}
}

// stuckBot's Stop waits for something that never comes, and ignores its
// context: the suite must name the hang and show the goroutines.
type stuckBot struct {
	Bot
	never chan struct{}
}

func (b stuckBot) Stop(context.Context) error { <-b.never; return nil }

func TestHungBotIsNamed(t *testing.T) {
	never := make(chan struct{})
	defer close(never) // let the stuck goroutines go at the end
	done := make(chan SuiteVerdict, 1)
	go func() {
		done <- RunSuite(func(env *Env) (Bot, error) {
			ref, err := ReferenceBot(env)
			return stuckBot{Bot: ref, never: never}, err
		}, WithTimeout(500*time.Millisecond)) // 50 ms (and, 1 time in 120, 250 ms) called slow but correct calls hung under CI-like load, and rapid then could not replay its shrunk case
	}()
	select {
	case v := <-done:
		if v.Passed {
			t.Fatal("a bot whose Stop never returns passed")
		}
		if !strings.Contains(v.Output, "the bot hung in Stop") || !strings.Contains(v.Output, "goroutine ") {
			t.Fatalf("the failure does not name the hung Stop with a goroutine dump:\n%.2000s", v.Output)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("the suite itself hung on a bot whose Stop never returns")
	}
}

func TestOptionsRefuseBadValues(t *testing.T) {
	for _, opt := range []Option{WithTimeout(0), WithTimeout(-time.Second), WithGrace(-time.Second), nil} {
		v := RunSuite(ReferenceBot, opt)
		if v.Passed || v.Output == "" {
			t.Errorf("a bad option was accepted: %+v", v)
		}
	}
}

// hexCopyBot is ReferenceBot that also keeps, under the same lease, a
// scrambled copy (the bytes reversed) of every frame it persists on a
// stream of its own (99): the suite cannot read that stream. (Hex and
// base64 it decodes.)
type hexCopyBot struct{ *referenceBot }

func (b hexCopyBot) Frame(_ context.Context, stream int, p []byte) error {
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return nil // refused: the gate is closed
	}
	defer lease.Release()
	if _, err := b.sink.Write(stream, p); err != nil {
		return err
	}
	scrambled := slices.Clone(p)
	slices.Reverse(scrambled)
	_, err = b.sink.Write(99, scrambled)
	return err
}

// A stream of bytes in which no frame was ever traced fails the run as
// vacuous, naming the stream, unless the bot says it holds no media.
func TestUntracedStreamIsVacuous(t *testing.T) {
	newBot := func(env *Env) (Bot, error) {
		ref, err := newReferenceBot(env, 0)
		return hexCopyBot{ref}, err
	}
	v := RunSuite(newBot)
	if v.Passed || !strings.Contains(v.Output, "vacuous run on stream 99") || !strings.Contains(v.Output, "WithUntracedStreams") {
		t.Fatalf("a run with an unreadable stream passed or did not name it: passed=%v\n%.1500s", v.Passed, v.Output)
	}
	if v := RunSuite(newBot, WithUntracedStreams(99)); !v.Passed {
		t.Fatalf("with stream 99 named as holding no media, the run failed:\n%.1500s", v.Output)
	}
	if v := RunSuite(ReferenceBot, WithUntracedStreams()); v.Passed {
		t.Fatal("WithUntracedStreams() with no stream was accepted")
	}
}

// A nil factory is refused with an error that says what to pass, never a
// nil-pointer panic.
func TestNilFactoryIsRefused(t *testing.T) {
	v := RunSuite(nil)
	if v.Passed || !strings.Contains(v.Output, "pass the Factory") {
		t.Fatalf("RunSuite(nil): passed %v, output %q", v.Passed, v.Output)
	}
}

// RunSuite names its run (and so rapid's saved failing case) after the
// factory: one bot's saved case is never replayed for another.
func TestRunSuiteNamesItsRunAfterTheFactory(t *testing.T) {
	a, b := suiteName(ReferenceBot), suiteName(func(env *Env) (Bot, error) { return ReferenceBot(env) })
	if a == b || !strings.Contains(a, "ReferenceBot") {
		t.Fatalf("names %q and %q: want distinct, the first naming ReferenceBot", a, b)
	}
}

// A run that persisted frames but never had a Stop meet a write holding
// its lease warns that R2's wait was not put to the test; one that did, or
// that persisted nothing (vacuous, an error of its own), does not.
func TestCoverageWarnsWhenNoStopMetAWrite(t *testing.T) {
	untested := &Coverage{Cases: 100, Confirmed: 60, FramesPersisted: 900}
	if w := untested.Warnings(); len(w) != 1 || !strings.Contains(w[0], "R2") {
		t.Errorf("no Stop met a write: warnings %q, want one naming R2", w)
	}
	tested := &Coverage{Cases: 100, Confirmed: 60, FramesPersisted: 900, StopsWithWrites: 3}
	if w := tested.Warnings(); len(w) != 0 {
		t.Errorf("Stops met writes: warnings %q, want none", w)
	}
	if w := (&Coverage{Cases: 100}).Warnings(); len(w) != 0 {
		t.Errorf("nothing persisted: warnings %q, want none (vacuous says it)", w)
	}
}

// Storage stalls are drawn only with WithStorageStalls: the default suite
// keeps every failure replayable from its seed.
func TestStorageStallsOnlyWithTheOption(t *testing.T) {
	without := RunSuite(ReferenceBot)
	with := RunSuite(ReferenceBot, WithStorageStalls())
	if !without.Passed || !with.Passed {
		t.Fatalf("the reference bot failed: default %v, with stalls %v:\n%s\n%s", without.Passed, with.Passed, without.Output, with.Output)
	}
	if without.Coverage.Stalls != 0 {
		t.Errorf("the default suite drew %d storage stalls, want none", without.Coverage.Stalls)
	}
	if with.Coverage.Stalls == 0 || with.Coverage.StalledWrites == 0 {
		t.Errorf("WithStorageStalls: %d stalls holding %d writes, want some of both", with.Coverage.Stalls, with.Coverage.StalledWrites)
	}
}
