package properties

import (
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recgate/recgate/fsm"
	"github.com/recgate/recgate/internal/hooks"
)

var deep = flag.Bool("deep", false, "also check the larger models (K = 3 under -race; with the recgate_checker tag, K = 1 at full bounds)")

// gateSteps reports whether this build pauses inside the gate's own atomic
// steps (the recgate_checker build tag).
func gateSteps(t testing.TB) bool {
	t.Helper()
	s, err := newSim(ModelConfig{}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	return s.steps
}

// modelConfigs are the exhaustive runs of the correct machine this build
// makes. Without the gate's own steps a writer's lease operation is one
// move, and K = 1, 2 and 3 run at full bounds; under -race (README's test
// command), which slows the checker five to tenfold (full K = 3 takes 37 s
// there), K = 1, 2 and 3 run with one Start and one Stop, about 2 s each
// (-deep restores the full runs). With the gate's own steps (-tags
// recgate_checker) each Acquire is several moves and the drain looks at
// each stream in turn, so the state space grows several times per writer:
// K = 1 and 2 run with one Start and one Stop, K = 2 with completed replies
// only (two writers are there for the drain's walk over two streams and a
// stream that joins during a recording); -deep adds K = 1 at full bounds.
func modelConfigs(t testing.TB) []ModelConfig {
	small := func(k int) ModelConfig { return ModelConfig{Writers: k, Starts: 1, Stops: 1} }
	if gateSteps(t) {
		k2 := small(2)
		k2.Outcomes = []Outcome{OutcomeCompleted}
		cfgs := []ModelConfig{small(1)}
		if !raceEnabled || *deep {
			cfgs = append(cfgs, k2)
		}
		if *deep {
			cfgs = append(cfgs, ModelConfig{Writers: 1})
		}
		return cfgs
	}
	if raceEnabled && !*deep {
		return []ModelConfig{small(1), small(2), small(3)}
	}
	return []ModelConfig{{Writers: 1}, {Writers: 2}, {Writers: 3}}
}

// correctModels memoizes the exhaustive runs of the correct machine (and of
// the mutants): the checker test, the SPIN cross-check and the comparison
// of the search's ways to go on need them.
var correctModels sync.Map // string -> *ModelResult

func correctModel(t testing.TB, cfg ModelConfig) *ModelResult {
	t.Helper()
	name := fmt.Sprintf("%+v", cfg)
	if r, ok := correctModels.Load(name); ok {
		return r.(*ModelResult)
	}
	res, err := CheckModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	correctModels.Store(name, res)
	return res
}

func TestModelCheckerCorrectMachine(t *testing.T) {
	for _, cfg := range modelConfigs(t) {
		res := correctModel(t, cfg)
		t.Logf("K=%d (starts %d, stops %d, gate steps %v): %d states, %d transitions, %d replays, depth %d, %s, %.0f states/s",
			cfg.Writers, res.Config.Starts, res.Config.Stops, res.GateSteps, res.States, res.Transitions, res.Replays, res.Depth, res.Duration.Round(time.Millisecond), res.StatesPerSecond())
		if res.Counterexample != nil {
			t.Fatalf("violation in the correct machine:\n%s", res.Counterexample)
		}
		if !res.Complete {
			t.Fatal("search cut short")
		}
		// Vacuity: the checks looked at something.
		if !res.PersistReachable {
			t.Error("no write was ever persisted: the invariants were checked on nothing")
		}
		pending := slices.Contains(res.Config.Outcomes, OutcomePending)
		for _, s := range fsm.States() {
			if res.StatesReached[s] == 0 && (s != fsm.AwaitingConfirmation || pending) {
				t.Errorf("state %s never reached", s)
			}
		}
		for _, ev := range []string{"start", "stop", "fail", "update:completed", "update:failed", "callEnded", "dup:start"} {
			if res.TriggersFired[ev] == 0 && (ev != "update:completed" && ev != "update:failed" || pending) {
				t.Errorf("event %s never fired", ev)
			}
		}
		if len(res.Stuck) > 0 {
			t.Errorf("%d states cannot reach NotRecording or Ended, e.g. %s", len(res.Stuck), res.Stuck[0])
		}
		if cfg.Writers == 2 {
			t.Logf("coverage:\n%s", res.CoverageTable())
		}
	}
}

// Every seeded bug must be caught by the model checker, with a shortest
// counterexample that names the mutant and the invariant.
func TestModelCheckerKillsEveryMutant(t *testing.T) {
	for _, mut := range hooks.All {
		t.Run(mut.String(), func(t *testing.T) { checkKilled(t, ModelConfig{Writers: 1, mutants: mut}) })
	}
}

// The gate-internal seeded bugs are compiled in only with the
// recgate_checker tag, and only the checker that pauses inside the gate's
// own steps can see them. DrainStaleList needs a stream that joins during
// the recording: the second writer's.
func TestModelCheckerKillsGateInternalMutants(t *testing.T) {
	if !gateSteps(t) {
		t.Skip("the gate-internal mutants need the gate's own steps: go test -tags recgate_checker ./properties -run ModelChecker")
	}
	for _, mut := range hooks.GateInternal {
		t.Run(mut.String(), func(t *testing.T) {
			if !mut.GateInternal() {
				t.Fatalf("%s is in hooks.GateInternal but does not say so", mut)
			}
			k := 1
			if mut == hooks.DrainStaleList {
				k = 2
			}
			checkKilled(t, ModelConfig{Writers: k, Starts: 1, Stops: 1, mutants: mut})
		})
	}
}

func checkKilled(t *testing.T, cfg ModelConfig) {
	t.Helper()
	res := correctModel(t, cfg)
	mut := cfg.mutants
	if res.Counterexample == nil {
		t.Fatalf("mutant %s (%s) survived the model checker (%d states)", mut, mut.Bug(), res.States)
	}
	t.Logf("mutant %s killed after %d states:\n%s", mut, res.States, res.Counterexample)
	// The counterexample replays to the same violation, and the correct
	// machine, given the same moves, breaks nothing.
	vs, err := Replay(cfg, res.Counterexample.Moves)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 || vs[0].Invariant.ID != res.Counterexample.Violations[0].Invariant.ID {
		t.Fatalf("the counterexample does not replay to its violation: %v", vs)
	}
	correct := cfg
	correct.mutants = 0
	if vs, err := Replay(correct, res.Counterexample.Moves); err == nil && len(vs) > 0 {
		t.Fatalf("the correct machine breaks on the mutant's counterexample: %v", vs)
	}
}

// The search's result does not depend on how many goroutines explore the
// frontier, nor on going on from paused machines instead of replaying: the
// same states, transitions and depth, and the same shortest counterexample.
func TestModelCheckerIsDeterministic(t *testing.T) {
	small := ModelConfig{Writers: 1, Starts: 1, Stops: 1, Outcomes: []Outcome{OutcomeCompleted, OutcomeFailed}}
	serial := small
	serial.Workers, serial.keepAlive = 1, -1
	checked := small
	checked.checkReplays = true // every state replayed afresh and compared
	var results []*ModelResult
	for _, cfg := range []ModelConfig{small, serial, checked} {
		res, err := CheckModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for _, r := range results[1:] {
		if r.States != results[0].States || r.Transitions != results[0].Transitions || r.Depth != results[0].Depth {
			t.Fatalf("runs differ: %d/%d/%d states/transitions/depth against %d/%d/%d", r.States, r.Transitions, r.Depth, results[0].States, results[0].Transitions, results[0].Depth)
		}
	}
	if results[1].Replays <= results[0].Replays {
		t.Errorf("going on from paused machines saved no replay: %d against %d", results[0].Replays, results[1].Replays)
	}
	var ces []string
	for _, workers := range []int{1, 3} {
		res, err := CheckModel(ModelConfig{Writers: 2, Workers: workers, mutants: hooks.ReportBeforeDrain})
		if err != nil || res.Counterexample == nil {
			t.Fatalf("no counterexample: %v", err)
		}
		ces = append(ces, strings.Join(res.Counterexample.Moves, " "))
	}
	if ces[0] != ces[1] {
		t.Fatalf("the counterexample depends on the number of workers:\n%s\n%s", ces[0], ces[1])
	}
}

func TestCounterexampleBecomesAGoTest(t *testing.T) {
	cfg := ModelConfig{Writers: 1, mutants: hooks.ReportBeforeDrain}
	res, err := CheckModel(cfg)
	if err != nil || res.Counterexample == nil {
		t.Fatalf("no counterexample: %v", err)
	}
	src := res.Counterexample.GoTest("TestReportBeforeDrainCounterexample", cfg)
	for _, want := range []string{"func TestReportBeforeDrainCounterexample(t *testing.T)", "mutants: hooks.ReportBeforeDrain", `"ev:start"`, "Replay("} {
		if !strings.Contains(src, want) {
			t.Errorf("generated test lacks %q:\n%s", want, src)
		}
	}
	dot := res.DOT()
	if !strings.Contains(dot, "digraph") || !strings.Contains(dot, "color=red") {
		t.Errorf("DOT lacks the highlighted counterexample:\n%.400s", dot)
	}
}

// Generated by TestCounterexampleBecomesAGoTest's GoTest for one mutant,
// and kept: a counterexample as an ordinary regression test.
func TestReplayedCounterexampleReportBeforeDrain(t *testing.T) {
	moves := []string{"ev:start", "step:control", "reply:control:completed", "w0:acquire", "ev:stop", "step:control", "step:control", "step:control", "step:control"}
	if gateSteps(t) {
		// Acquire pauses once the lease is announced: one step more.
		moves = slices.Insert(moves, 4, "step:w0")
	}
	vs, err := Replay(ModelConfig{Writers: 1, mutants: hooks.ReportBeforeDrain}, moves)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 || vs[0].Invariant.ID != "P2" {
		t.Fatalf("want a P2 violation, got %v", vs)
	}
	// The correct machine, same moves: the drain waits, so the path stops
	// at the lease and nothing breaks.
	vs, err = Replay(ModelConfig{Writers: 1}, moves)
	if err == nil && len(vs) > 0 {
		t.Fatalf("the correct machine broke: %v", vs)
	}
}

func BenchmarkModelCheckK1(b *testing.B) { benchModel(b, 1) }
func BenchmarkModelCheckK2(b *testing.B) { benchModel(b, 2) }
func BenchmarkModelCheckK3(b *testing.B) { benchModel(b, 3) }

// benchModel reports states per second of wall time and of CPU time (the
// latter is steadier on a loaded machine).
func benchModel(b *testing.B, k int) {
	var res *ModelResult
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		var err error
		res, err = CheckModel(ModelConfig{Writers: k})
		if err != nil || res.Counterexample != nil {
			b.Fatal(err, res.Counterexample)
		}
	}
	cpu := (cpuTime() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(float64(res.States), "states")
	b.ReportMetric(float64(res.Transitions), "transitions")
	b.ReportMetric(float64(res.Replays), "replays")
	b.ReportMetric(float64(res.Depth), "depth")
	b.ReportMetric(res.StatesPerSecond(), "states/s")
	b.ReportMetric(float64(res.States)/cpu, "states/cpu-s")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRapidSuite reports how many rapid cases per second the suite
// runs against the reference bot (rapid's default 100 cases per op).
func BenchmarkRapidSuite(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if v := RunSuite(ReferenceBot); !v.Passed {
			b.Fatal(v.Output)
		}
	}
	b.ReportMetric(100*float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
