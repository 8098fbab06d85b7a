package properties

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/graph"
)

// mustCatch fails t unless the suite failed the bot (what it did wrong:
// bug) with a report that holds every one of want.
func mustCatch(t *testing.T, v SuiteVerdict, bug string, want ...string) {
	t.Helper()
	if v.Passed {
		t.Fatalf("a bot that %s passed the suite", bug)
	}
	for _, w := range want {
		if !strings.Contains(v.Output, w) {
			t.Fatalf("a bot that %s failed, but the report does not say %q:\n%.4000s", bug, w, v.Output)
		}
	}
}

// keepsTheRuleAlone fails t unless the bot passes with one call per
// process: its mistake shows only between calls.
func keepsTheRuleAlone(t *testing.T, f Factory) {
	t.Helper()
	if v := RunSuite(f, WithoutNeighbourCall()); !v.Passed {
		t.Fatalf("with one call per process the bot keeps the rule, and failed:\n%.4000s", v.Output)
	}
}

// flagProcess is the mistake some samples teach: the recording status in
// a static field of the process, set when any call's recording is
// confirmed and read by every call's frame handler. With one call it
// keeps the rule; with two, the call that is not recorded persists its
// media while the other one records.
type flagProcess struct{ recording atomic.Bool }

type flagBot struct {
	*referenceBot
	proc *flagProcess
}

func (p *flagProcess) factory(env *Env) (Bot, error) {
	ref, err := newReferenceBotOver(env, env.Updater, 0)
	if err != nil {
		return nil, err
	}
	b := &flagBot{proc: p}
	// The flag follows this call's gate, as a handler that sets
	// IsRecording on the confirmed reply and clears it before the report
	// would.
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind == fsm.EventGate {
				p.recording.Store(e.Open)
			}
		}))
	if err != nil {
		return nil, err
	}
	ref.m = m
	b.referenceBot = ref
	return b, nil
}

func (b *flagBot) Frame(_ context.Context, stream int, payload []byte) error {
	if !b.proc.recording.Load() {
		return errGateClosed
	}
	_, err := b.sink.Write(stream, payload)
	return err
}

// TestAProcessWideRecordingFlagIsCaught: the neighbouring call, never
// recorded, persists its media while the call under test records.
func TestAProcessWideRecordingFlagIsCaught(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var p flagProcess
	v := RunSuite(p.factory)
	mustCatch(t, v, "keeps one recording flag for the process")
	if !strings.Contains(v.Output, "P1 ") && !strings.Contains(v.Output, "P7 ") {
		t.Fatalf("the report names neither P1 nor P7:\n%.4000s", v.Output)
	}
	// Either call shows it: the neighbouring call persists its media
	// while the call under test records (its events are then listed
	// too), or, in a case where the neighbouring call records, the call
	// under test persists its own media before Graph confirmed it.
	inNeighbour := strings.Contains(v.Output, "in the neighbouring call") && strings.Contains(v.Output, ", as the suite played it (events in order):")
	if !inNeighbour && !strings.Contains(v.Output, "the neighbouring call starts recording") {
		t.Fatalf("the report shows neither call's media persisted through the other's flag:\n%.4000s", v.Output)
	}
}

// TestWithoutNeighbourCallPlaysOneCall: by default every case asks the
// factory for the neighbouring call too; with the option, never.
func TestWithoutNeighbourCallPlaysOneCall(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	for _, c := range []struct {
		opts []Option
		want bool
	}{{nil, true}, {[]Option{WithoutNeighbourCall()}, false}} {
		var mains, neighbours atomic.Int64
		v := RunSuite(func(env *Env) (Bot, error) {
			if env.neighbour {
				neighbours.Add(1)
			} else {
				mains.Add(1)
			}
			return ReferenceBot(env)
		}, c.opts...)
		if !v.Passed {
			t.Fatalf("the reference bot failed (options %d):\n%.4000s", len(c.opts), v.Output)
		}
		if got := neighbours.Load() > 0; got != c.want {
			t.Fatalf("options %d: the factory was asked for the neighbouring call %d times in %d cases", len(c.opts), neighbours.Load(), mains.Load())
		}
		if c.want && neighbours.Load() != mains.Load()-1 {
			// One factory call outside any case (RunSuite tries the
			// factory first), then two per case.
			t.Errorf("%d neighbouring calls for %d calls under test: want one per case", neighbours.Load(), mains.Load())
		}
	}
}

// sharedStreamProcess is the mistake of a process that opens its media
// streams once, for the first call, and hands every later call the same
// streams: each call has a machine of its own, but the neighbouring
// call's frames go through the recording call's gate into its storage.
type sharedStreamProcess struct {
	mu    sync.Mutex
	first *referenceBot
}

func (p *sharedStreamProcess) factory(env *Env) (Bot, error) {
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil || !env.neighbour {
		p.first = ref // the call under test is built first in every case
		return ref, nil
	}
	shared := *ref
	shared.streams, shared.sink = p.first.streams, p.first.sink
	return &shared, nil
}

// TestANeighboursMediaInTheRecordedCallIsCaught: the neighbouring call's
// frames found in the call under test's storage break P7 there, and the
// report says whose they were.
func TestANeighboursMediaInTheRecordedCallIsCaught(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var p sharedStreamProcess
	mustCatch(t, RunSuite(p.factory), "writes every call's media through the first call's streams", "P7 ", "in the neighbouring call ")
}

// lastCallProcess keeps a registry of its calls' machines, but its
// control handlers act on the call the process set up last ("the" call,
// as a one-call prototype had it): with two calls, Stop stops the wrong
// one, and the recorded call keeps its gate open.
type lastCallProcess struct {
	mu   sync.Mutex
	last *referenceBot
}

type lastCallBot struct {
	*referenceBot
	proc *lastCallProcess
}

func (p *lastCallProcess) factory(env *Env) (Bot, error) {
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.last = ref
	p.mu.Unlock()
	return &lastCallBot{referenceBot: ref, proc: p}, nil
}

func (b *lastCallBot) current() *referenceBot {
	b.proc.mu.Lock()
	defer b.proc.mu.Unlock()
	return b.proc.last
}

func (b *lastCallBot) Stop(ctx context.Context) error { return b.current().Stop(ctx) }
func (b *lastCallBot) Fail(ctx context.Context) error { return b.current().Fail(ctx) }

// TestAControlEventForTheWrongCallIsCaught: with one call per case this
// bot is correct (the last call set up is the only one); with the
// neighbouring call, its Stop stops the neighbour and the call under test
// goes on persisting.
func TestAControlEventForTheWrongCallIsCaught(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var alone lastCallProcess
	keepsTheRuleAlone(t, alone.factory)
	var p lastCallProcess
	v := RunSuite(p.factory)
	mustCatch(t, v, "stops the call it set up last")
	// The call under test goes on persisting after Stop (P9, P1), or,
	// when the neighbouring call records too, a report is sent for it
	// inside its Start (P3).
	if !strings.Contains(v.Output, "P9 ") && !strings.Contains(v.Output, "P1 ") && !strings.Contains(v.Output, "P3 ") {
		t.Fatalf("want P9 or P1 for the call that went on persisting after Stop, or P3 for the report sent for the neighbouring call:\n%.4000s", v.Output)
	}
}

// TestOneGraphClientServesBothCalls: a process that keeps one Graph
// client (here, the Updater of the call it built last) and sends every
// call's requests through it is correct: the request names its call, and
// the suite answers it as that call's.
func TestOneGraphClientServesBothCalls(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var mu sync.Mutex
	var last *Updater
	client := fsm.UpdaterFunc(func(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
		mu.Lock()
		u := last
		mu.Unlock()
		return u.UpdateRecordingStatus(ctx, callID, status, clientContext)
	})
	var viaNeighbour atomic.Int64
	v := RunSuite(func(env *Env) (Bot, error) {
		mu.Lock()
		last = env.Updater
		mu.Unlock()
		return newReferenceBotOver(env, fsm.UpdaterFunc(func(ctx context.Context, callID string, status graph.Status, clientContext string) (graph.Operation, error) {
			mu.Lock()
			if last.env.CallID != callID {
				viaNeighbour.Add(1)
			}
			mu.Unlock()
			return client.UpdateRecordingStatus(ctx, callID, status, clientContext)
		}), 0)
	})
	if !v.Passed {
		t.Fatalf("a bot with one Graph client for the process failed:\n%.4000s", v.Output)
	}
	if viaNeighbour.Load() == 0 {
		t.Fatal("no request of the call under test went through the neighbouring call's Updater: the test did not test the routing")
	}
	u := newEnv("a", 1)
	if _, err := u.Updater.UpdateRecordingStatus(context.Background(), "b", graph.StatusRecording, "x"); err == nil || !strings.Contains(err.Error(), "not a call the suite plays") {
		t.Fatalf("a request for a call the suite does not play: err %v", err)
	}
}

// TestEveryCallIsNewToTheProcess: a process that refuses a call ID it has
// seen (Graph never gives two calls one ID) and sends every call's
// requests through the first Updater it was handed (one Graph client,
// built at start-up) keeps the rule: each case's calls, and the
// preflight's, have IDs of their own, and any Updater routes a request to
// the call it names.
func TestEveryCallIsNewToTheProcess(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var mu sync.Mutex
	seen := map[string]bool{}
	var first *Updater
	v := RunSuite(func(env *Env) (Bot, error) {
		mu.Lock()
		defer mu.Unlock()
		if seen[env.CallID] {
			return nil, errors.New("call " + env.CallID + " joined twice")
		}
		seen[env.CallID] = true
		if first == nil {
			first = env.Updater
		}
		return newReferenceBotOver(env, first, 0)
	})
	if !v.Passed {
		t.Fatalf("a process with one Graph client that refuses a second join of a call failed:\n%.4000s", v.Output)
	}
	if len(seen) < 3 {
		t.Fatalf("%d calls seen: want the preflight's and two per case", len(seen))
	}
}

// outputAtStart keeps one storage output for the process, chosen when a
// call starts recording: each call has its own machine and leases, but
// while two calls record, the one that started first writes into the
// storage of the one that started last.
type outputAtStart struct {
	mu     sync.Mutex
	output *Sink
}

type outputAtStartBot struct {
	*referenceBot
	proc *outputAtStart
	own  *Sink
}

func (p *outputAtStart) factory(env *Env) (Bot, error) {
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	return &outputAtStartBot{referenceBot: ref, proc: p, own: env.Sink}, nil
}

func (b *outputAtStartBot) Start(ctx context.Context) error {
	b.proc.mu.Lock()
	b.proc.output = b.own
	b.proc.mu.Unlock()
	return b.referenceBot.Start(ctx)
}

func (b *outputAtStartBot) Frame(_ context.Context, stream int, payload []byte) error {
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return errGateClosed
	}
	defer lease.Release()
	b.proc.mu.Lock()
	out := b.proc.output
	b.proc.mu.Unlock()
	_, err = out.Write(stream, payload)
	return err
}

// TestTwoRecordingsAtOnceShowOneOutputForTheProcess: in the cases where
// the neighbouring call records too, the call under test's Start takes
// the process's output, and the neighbouring call's frames, written
// under its own lease, land in the call under test's storage (P7 there).
// With one call recording at a time the bot keeps the rule.
func TestTwoRecordingsAtOnceShowOneOutputForTheProcess(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var alone outputAtStart
	keepsTheRuleAlone(t, alone.factory)
	var p outputAtStart
	mustCatch(t, RunSuite(p.factory), "keeps one output for the process, chosen at each Start", "P7 ", "in the neighbouring call ")
}

// endStopsTheRecording: a call's CallEnded first stops the process's
// recording, whichever call's it is. Wrong for the product (a recording
// ends when another call does), within the rule: that Stop closes the
// gate, drains, flushes and reports through the recording call's Graph.
type endStopsTheRecording struct {
	mu        sync.Mutex
	recording *referenceBot
}

type endStopsBot struct {
	*referenceBot
	proc *endStopsTheRecording
}

func (p *endStopsTheRecording) factory(env *Env) (Bot, error) {
	var self *referenceBot
	m, err := fsm.New(env.CallID, env.Updater,
		fsm.WithRecordingEndedHook(func(context.Context, fsm.Trigger) error { return env.Sink.Flush() }),
		fsm.WithObserver(func(e fsm.Event) {
			if e.Kind != fsm.EventGate {
				return
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			switch {
			case e.Open:
				p.recording = self
			case p.recording == self:
				p.recording = nil
			}
		}))
	if err != nil {
		return nil, err
	}
	self = &referenceBot{m: m, sink: env.Sink}
	for i := 0; i < env.Streams; i++ {
		self.streams = append(self.streams, m.Gate().NewStream())
	}
	return &endStopsBot{referenceBot: self, proc: p}, nil
}

func (b *endStopsBot) CallEnded(ctx context.Context) error {
	b.proc.mu.Lock()
	rec := b.proc.recording
	b.proc.mu.Unlock()
	if rec != nil && rec != b.referenceBot {
		_ = rec.m.Stop(ctx)
	}
	return b.m.CallEnded(ctx)
}

// TestTheNeighboursEventsAreNotTheCallUnderTests: the report the
// neighbouring call's CallEnded sends for the call under test comes from
// none of the call under test's events, as a timer's would, and is not
// counted in the attempt under way there (it was, as a second request of
// a Start, while the neighbouring call's bot calls carried the call under
// test's context tag).
func TestTheNeighboursEventsAreNotTheCallUnderTests(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var p endStopsTheRecording
	if v := RunSuite(p.factory); !v.Passed {
		t.Fatalf("a bot whose CallEnded stops the process's recording (within the rule) failed:\n%.4000s", v.Output)
	}
}

// scratchCall keeps, for the media path, the call whose frame is being
// handled in one field of the process ("the handler sets the context,
// the encoder reads it"), under a lock each time: a frame admitted under
// its own call's lease is written, after encoding, to the storage of
// whichever call's frame arrived meanwhile.
type scratchCall struct {
	mu  sync.Mutex
	cur *Sink
}

type scratchBot struct {
	*referenceBot
	proc *scratchCall
}

func (p *scratchCall) factory(env *Env) (Bot, error) {
	ref, err := newReferenceBot(env, 0)
	if err != nil {
		return nil, err
	}
	return &scratchBot{referenceBot: ref, proc: p}, nil
}

func (b *scratchBot) Frame(_ context.Context, stream int, payload []byte) error {
	b.proc.mu.Lock()
	b.proc.cur = b.sink
	b.proc.mu.Unlock()
	lease, err := b.streams[stream].Acquire()
	if err != nil {
		return errGateClosed
	}
	defer lease.Release()
	encoded := append([]byte(nil), payload...)
	time.Sleep(200 * time.Microsecond) // the encoder's time
	b.proc.mu.Lock()
	out := b.proc.cur
	b.proc.mu.Unlock()
	_, err = out.Write(stream, encoded)
	return err
}

// TestTheTwoCallsMediaComeAtOnce: in a step of frames the neighbouring
// call's frames come at the same time as the call under test's, so a
// media path that keeps its call in one field of the process writes one
// call's frame into the other's storage. (When the frames came only
// between steps, it passed every run.)
func TestTheTwoCallsMediaComeAtOnce(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var alone scratchCall
	keepsTheRuleAlone(t, alone.factory)
	var p scratchCall
	mustCatch(t, RunSuite(p.factory), "keeps the call a frame belongs to in one field of the process", "P7 ")
}

// TestACollectedCallIsForgotten: the routing table holds its calls
// weakly, so a long run does not keep every Env it ever made, and a call
// that is still in use is never dropped.
func TestACollectedCallIsForgotten(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	live := newEnv(newCallPair().test, 1)
	registerCall(live)
	gone := newCallPair().test
	registerCall(newEnv(gone, 1))
	for i := 0; i < 10 && playedCall(gone) != nil; i++ {
		runtime.GC()
		time.Sleep(time.Millisecond) // cleanups run on a goroutine of the runtime's
	}
	if playedCall(gone) != nil {
		t.Error("a call no one holds is still in the routing table after ten collections")
	}
	if playedCall(live.CallID) != live {
		t.Error("a call still in use was dropped from the routing table")
	}
	runtime.KeepAlive(live)
}

// TestAFactoryThatServesOneCallIsToldWhatToDo: a factory that cannot
// build a second call while the first one lives (one call per process)
// fails with a message that names the neighbouring call and the option.
func TestAFactoryThatServesOneCallIsToldWhatToDo(t *testing.T) {
	t.Parallel() // its own bots and process state; the suite runs beside other suites, as botrounds' rows do
	var mu sync.Mutex
	var live *Env
	v := RunSuite(func(env *Env) (Bot, error) {
		mu.Lock()
		defer mu.Unlock()
		if live != nil && live.peer == env {
			return nil, errors.New("this process serves one call")
		}
		live = env
		return ReferenceBot(env)
	})
	mustCatch(t, v, "serves one call per process", "the bot factory failed for the neighbouring call", "WithoutNeighbourCall", "this process serves one call")
}
