package properties

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/graph"
)

// Bot is the bot wiring under test: the handlers a Teams media bot runs
// for each event. Errors are expected (a refused Start, a frame dropped
// outside a recording) and are not failures; broken invariants are.
type Bot interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Fail(ctx context.Context) error
	// OperationUpdate delivers Graph's later notification about a pending
	// operation.
	OperationUpdate(ctx context.Context, op graph.Operation) error
	// Frame is one media frame arriving on stream; the bot persists it to
	// env.Sink only if its gate allows. Frames also arrive while a Graph
	// request is out and while the recording-ended hook runs, on other
	// goroutines, as in a real call. A stream's frames come one at a
	// time, as the media platform delivers one socket's buffers: Frame
	// is never called for a stream whose previous Frame has not
	// returned (a frame that arrives meanwhile waits for it), so a bot
	// that gives each stream its own fsm.Stream never gets
	// fsm.ErrStreamBusy from the suite. Frames of different streams do
	// overlap.
	Frame(ctx context.Context, stream int, payload []byte) error
	CallEnded(ctx context.Context) error
}

// GateReporter is optional: a bot that can say whether its gate is open
// lets the suite check P4 and P5 on the gate itself after every event, not
// only on bytes. (Env.GateOpened does the same at the moment of opening.)
type GateReporter interface {
	GateOpen() bool
}

// Closer is optional: a bot with background work (a writer goroutine, a
// batching queue) finishes it in Close, and the suite judges every write
// that lands until Close returns and for a short grace period after.
type Closer interface {
	Close(ctx context.Context) error
}

// Introspector is optional: a bot whose machine can be introspected lets
// the suite check that introspection sends nothing (P3).
type Introspector interface {
	Introspect()
}

// Factory builds the bot for one call around the suite's environment: its
// Graph (env.Updater) and its storage (env.Sink). Each case calls it twice,
// for the call under test and for a neighbouring call of the same process
// (see "Two calls in one process" in the package doc; WithoutNeighbourCall
// plays one), so state the factory shares between its bots is shared
// between calls, as in your process.
type Factory func(env *Env) (Bot, error)

// Check runs the property suite against the bots newBot builds: rapid
// draws a case (Graph's replies, the bot's events, media on every stream,
// also while requests are out and while the hook runs), the bot plays it,
// and every invariant is checked on every event, until the bot is quiet. A
// failure names the invariant, says what happened, and shrinks to a short
// case; rerun it with -rapid.seed. A run in which no frame was ever
// persisted fails as vacuous; a run that offered the bot no frame inside
// a confirmed recording (a short -rapid.checks can, by chance) first
// plays more cases, up to 100 in all. Check logs what the run covered.
//
// rapid saves a failing case under testdata/rapid/ in the package being
// tested, to replay it first next time; pass -rapid.nofailfile to keep
// your tree clean.
func Check(t *testing.T, newBot Factory, opts ...Option) {
	if t == nil {
		// No test to fail: the only way to say it.
		panic("properties: Check(nil, ...): pass the test's *testing.T")
	}
	t.Helper()
	o, err := prepare("Check(t, nil)", newBot, opts)
	if err != nil {
		t.Fatal(err)
	}
	var cov Coverage
	o.late = &lateWatch{}
	playUntilOffered(&cov, t.Failed, func() {
		rapid.Check(t, func(rt *rapid.T) { cov.add(runCase(rt, newBot, o)) })
	})
	if t.Failed() {
		return
	}
	if msg := o.late.awaitReport(o.lateWindow); msg != "" {
		t.Fatal(msg)
	}
	t.Logf("properties: %s", cov.String())
	for _, w := range cov.Warnings() {
		t.Log(w)
	}
	if err := cov.vacuous(o.untraced); err != nil {
		t.Error(err)
	}
}

// CheckT runs one drawn case on rapid's T; Check and Fuzz wrap it, and
// callers with their own rapid.Check loop may use it directly.
func CheckT(rt *rapid.T, newBot Factory, opts ...Option) {
	if newBot == nil {
		rt.Fatal("properties: CheckT(rt, nil): pass the Factory that builds your bot around the suite's Env")
	}
	o, err := buildOptions(opts)
	if err != nil {
		rt.Fatal(err)
	}
	runCase(rt, newBot, o)
}

// suiteCallID is a call ID for the package's own tests and the model
// checker's simulated machine; the cases the suite plays take theirs
// from newCallPair.
const suiteCallID = "57dab8b1-894c-409a-b240-bd8beae78896"

// runCase draws one case, plays it, and fails rt with a readable report on
// the first event that broke an invariant (or a hang). It returns what the
// case covered.
func runCase(rt *rapid.T, newBot Factory, o options) caseCoverage {
	sc := drawScenario(rt, o.stalls)
	r, err := newRunner(sc, newBot, o, nil, newCallPair())
	if err != nil {
		rt.Fatalf("properties: %v", err)
	}
	vs, failure := r.play(context.Background())
	r.env.endCase() // before anything else runs (the noninterference replay): what lands from here on is late
	if r.neighbour != nil {
		r.neighbour.env.endCase()
	}
	cov := r.coverage()
	if (failure != "" || len(vs) > 0) && o.onFail != nil {
		o.onFail()
	}
	if failure != "" || len(vs) > 0 {
		// The whole report goes in the failure itself: rapid prints it once
		// ("failed after N tests: ..."), and, when a bot's own goroutines
		// make the case fail only sometimes and its replay passes, as the
		// "Original traceback", where a log line of the failing run would
		// be lost.
		rt.Fatalf("%s\n%s", headline(vs, failure), r.report(vs, failure))
	}
	if o.noninterference {
		headline, msg, played := noninterference(r, newBot, o)
		switch played {
		case replayCompared:
			cov.replayed = 1
		case replayNotComparable:
			cov.notComparable = 1
		}
		if msg != "" {
			if o.onFail != nil {
				o.onFail()
			}
			if headline == "" {
				rt.Fatal(msg)
			}
			rt.Fatalf("%s\n%s", headline, msg)
		}
	}
	if o.late != nil {
		o.late.watch(r.env)
		if r.neighbour != nil {
			o.late.watch(r.neighbour.env)
		}
	}
	return cov
}

// report is what a person reads: each violation once, then the case as it
// was played.
func report(vs []Violation, failure string, events []Event) string {
	var b strings.Builder
	if failure != "" {
		b.WriteString(failure)
		b.WriteString("\n")
	}
	seen := map[string]bool{}
	for _, v := range vs {
		key := v.Invariant.ID + v.Detail
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprintf(&b, "%s\n  rule: %s\n", v.Error(), v.Invariant.Rule)
	}
	b.WriteString("the case as the suite played it (events in order):\n")
	b.WriteString(describeEvents(events))
	return b.String()
}

// headline is the failure in one line.
func headline(vs []Violation, failure string) string {
	if failure != "" {
		first, _, _ := strings.Cut(failure, "\n")
		return first
	}
	ids := []string{}
	seen := map[string]bool{}
	for _, v := range vs {
		if !seen[v.Invariant.ID] {
			seen[v.Invariant.ID] = true
			ids = append(ids, v.Invariant.String())
		}
	}
	return strings.Join(ids, ", ") + " violated (report below)"
}

func describe(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%s\n  rule: %s\n", v.Error(), v.Invariant.Rule)
	}
	return b.String()
}

func describeEvents(es []Event) string {
	var b strings.Builder
	for i, e := range es {
		fmt.Fprintf(&b, "  %3d %s\n", i+1, e)
	}
	return b.String()
}
