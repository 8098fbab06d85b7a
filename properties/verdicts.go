package properties

import (
	"flag"
	"reflect"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/recgate/recgate/internal/hooks"
)

// SuiteVerdict is one run of the rapid suite, as a report shows it.
type SuiteVerdict struct {
	Passed   bool          // no violation, not vacuous
	Duration time.Duration // the whole run, shrinking included
	// Output is what rapid printed: on failure, the violation and the
	// shrunk case; then the run's warnings (Coverage.Warnings), if any.
	Output string
	// Coverage is what the run reached (all its cases, shrinking included).
	Coverage *Coverage
	// FirstFailure is how long the run took to find its first failing
	// case (before shrinking it); zero if it passed.
	FirstFailure time.Duration
}

// RunSuite runs the rapid suite against newBot (rapid's default number of
// cases, or -rapid.checks) and returns its verdict instead of failing a
// test: for reports. A vacuous run (nothing persisted) does not pass; a
// short run that offered the bot no frame plays on as Check's does.
// Outside a test binary it first sets up the testing flags rapid reads
// (testing.Init, and an empty parse of the command-line flag set if
// nothing parsed it yet).
//
// Like Check, a failing run saves its case under testdata/rapid/ in the
// working directory (-rapid.nofailfile turns that off), in a directory
// named after newBot's function (RunSuite-<package>.<func>), and a later
// RunSuite of the same factory replays it first; another bot's saved case
// is never replayed. The output's "-run" hint names that directory, not a
// test: rerun the report with the -rapid.failfile or -rapid.seed it gives.
func RunSuite(newBot Factory, opts ...Option) SuiteVerdict {
	if newBot == nil {
		return SuiteVerdict{Output: "properties: RunSuite(nil): pass the Factory that builds your bot around the suite's Env", Coverage: &Coverage{}}
	}
	if !flag.Parsed() {
		testing.Init()
		_ = flag.CommandLine.Parse(nil)
	}
	v := &verdict{name: suiteName(newBot)}
	start := time.Now()
	cov := &Coverage{}
	o, err := buildOptions(opts)
	if err == nil {
		err = preflight(newBot, o)
	}
	if err != nil {
		return SuiteVerdict{Output: err.Error(), Coverage: cov}
	}
	var first atomic.Int64
	o.onFail = func() { first.CompareAndSwap(0, int64(time.Since(start))) }
	o.late = &lateWatch{}
	playUntilOffered(cov, v.Failed, func() {
		rapid.Check(v, func(rt *rapid.T) { cov.add(runCase(rt, newBot, o)) })
	})
	if !v.Failed() {
		if msg := o.late.awaitReport(o.lateWindow); msg != "" {
			o.onFail()
			v.Errorf("%s", msg)
		}
	}
	if !v.Failed() {
		if err := cov.vacuous(o.untraced); err != nil {
			v.Errorf("%v", err)
		}
	}
	out := v.String()
	for _, w := range cov.Warnings() {
		out += w + "\n"
	}
	return SuiteVerdict{Passed: !v.Failed(), Duration: time.Since(start), Output: out, Coverage: cov, FirstFailure: time.Duration(first.Load())}
}

// suiteName names a RunSuite run after its factory's function, so that a
// case rapid saves for one bot is replayed for that bot only.
func suiteName(newBot Factory) string {
	if f := runtime.FuncForPC(reflect.ValueOf(newBot).Pointer()); f != nil {
		return "RunSuite-" + f.Name()
	}
	return "RunSuite"
}

// MutantVerdict says whether the checkers caught one seeded bug.
type MutantVerdict struct {
	Name string // the seeded bug's name
	Bug  string // what the bug does, in words
	// ModelKilled: the model checker found a violation; Invariant names
	// the first one broken and Moves is the shortest path's length.
	ModelKilled bool
	Invariant   string
	Moves       int
	States      int // the states the model checker explored
	// RapidRun is set when the rapid suite was run too, and RapidKilled
	// when it failed.
	RapidRun    bool
	RapidKilled bool
}

// CheckMutants runs the model checker (K = 1 writer) against every seeded
// bug, and the rapid suite too when withRapid is set (slower: up to three
// runs of 100 cases per mutant).
func CheckMutants(withRapid bool) ([]MutantVerdict, error) {
	var out []MutantVerdict
	for _, mut := range hooks.All {
		v := MutantVerdict{Name: mut.String(), Bug: mut.Bug()}
		res, err := CheckModel(ModelConfig{Writers: 1, mutants: mut})
		if err != nil {
			return nil, err
		}
		v.States = res.States
		if ce := res.Counterexample; ce != nil {
			v.ModelKilled, v.Moves = true, len(ce.Moves)
			if len(ce.Violations) > 0 {
				v.Invariant = ce.Violations[0].Invariant.String()
			}
		}
		if withRapid {
			v.RapidRun = true
			for i := 0; i < 3 && !v.RapidKilled; i++ {
				sv := RunSuite(func(env *Env) (Bot, error) { return newReferenceBot(env, mut) })
				v.RapidKilled = !sv.Passed
			}
		}
		out = append(out, v)
	}
	return out, nil
}
