package botrounds

import (
	"flag"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/recgate/recgate/properties"
)

// SuiteWatchdog bounds one RunSuite, so a suite that cannot stop a hung
// bot fails the test instead of holding the binary until go test's
// timeout.
const SuiteWatchdog = 30 * time.Second

// Main is a round's TestMain: the bugs fail the suite on purpose, so no
// rapid fail files are written for them, and only the verdict and what it
// names matter, so shrinking stays short unless the command line asked.
func Main(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		_ = f.Value.Set("true")
	}
	if f := flag.Lookup("rapid.shrinktime"); f != nil && f.Value.String() == f.DefValue {
		_ = f.Value.Set("200ms")
	}
	os.Exit(m.Run())
}

// RunSuite runs properties.RunSuite on the bot under a watchdog.
func RunSuite(t *testing.T, name string, f properties.Factory, opts ...properties.Option) properties.SuiteVerdict {
	t.Helper()
	done := make(chan properties.SuiteVerdict, 1)
	go func() { done <- properties.RunSuite(f, opts...) }()
	select {
	case v := <-done:
		return v
	case <-time.After(SuiteWatchdog):
		t.Fatalf("properties.RunSuite on %s did not return within %v", name, SuiteWatchdog)
		return properties.SuiteVerdict{}
	}
}

var violationLine = regexp.MustCompile(`\bP\d+ [A-Z]\w+\b[^\n]* violated`)

// NamesViolation reports whether output names any broken invariant.
func NamesViolation(output string) bool { return violationLine.MatchString(output) }

// NamesOneOf reports whether output names one of ids as a broken
// invariant ("P7 ConsentCoversCapture violated", also in a headline that
// lists several), says the bot hung, that noninterference failed, or that
// the run was vacuous.
func NamesOneOf(output string, ids []string) bool {
	for _, id := range ids {
		var re *regexp.Regexp
		switch id {
		case Hung:
			re = regexp.MustCompile(`hung in`)
		case Interference:
			re = regexp.MustCompile(`noninterference violated`)
		case Vacuous:
			re = regexp.MustCompile(`vacuous`)
		default:
			re = regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + ` [A-Z]\w+\b[^\n]* violated`)
		}
		if re.MatchString(output) {
			return true
		}
	}
	return false
}

// CheckCorrect asserts that the suite passes every correct bot, that a
// Vacuous one fails as vacuous naming no violation, and that a known
// false alarm is still one (it skips with its diagnosis).
func CheckCorrect(t *testing.T, bots []CorrectBot) {
	for _, b := range bots {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			v := RunSuite(t, b.Name, b.New, b.Options...)
			switch {
			case b.Vacuous != "":
				if v.Passed || !NamesOneOf(v.Output, []string{Vacuous}) || NamesViolation(v.Output) {
					t.Fatalf("%s stores only what the suite cannot read (%s): the run must fail as vacuous and name no violation; passed=%v:\n%.6000s", b.Name, b.Vacuous, v.Passed, v.Output)
				}
			case b.FalseAlarm != "" && !v.Passed:
				t.Skipf("suite fails this correct bot: %s (%s)\n%.3000s", b.FalseAlarm, b.What, v.Output)
			case b.FalseAlarm != "" && b.Intermittent:
				t.Logf("the suite passed %s this run; its false alarm comes in some runs only: %s", b.Name, b.FalseAlarm)
			case b.FalseAlarm != "":
				t.Fatalf("the suite now passes %s, listed as a false alarm (%s): remove FalseAlarm from its row", b.Name, b.FalseAlarm)
			case !v.Passed:
				t.Fatalf("the suite failed %s, which keeps the rule (%s):\n%.6000s", b.Name, b.What, v.Output)
			}
		})
	}
}

// CheckBugs asserts that the suite fails every buggy bot, naming one of
// the invariants its row lists. A bug gets up to tries runs: a run draws
// its cases at random, and which invariant a drawn case breaks first
// varies. A known miss or an unreliable catch gets one run and skips with
// its diagnosis when the suite passes it.
func CheckBugs(t *testing.T, bugs []Bug, tries int) {
	for _, bug := range bugs {
		t.Run(bug.Name, func(t *testing.T) {
			t.Parallel()
			n := tries
			if bug.Miss != "" || bug.Unreliable != "" {
				n = 1 // measured 0 or 1 of 10 (TestMeasure); one run keeps it in sight
			}
			var v properties.SuiteVerdict
			for i := 0; i < n; i++ {
				if v = RunSuite(t, bug.Name, bug.New, bug.Options...); !v.Passed && NamesOneOf(v.Output, bug.Catches) {
					break
				}
			}
			switch {
			case bug.Miss != "" && (v.Passed || !NamesOneOf(v.Output, bug.Catches)):
				t.Skipf("suite misses this: %s (%s)", bug.Miss, bug.Mistake)
			case bug.Unreliable != "" && v.Passed:
				t.Skipf("suite passed this run: %s (%s)", bug.Unreliable, bug.Mistake)
			case v.Passed:
				t.Fatalf("the suite passed %s %d times (%s); it should name one of %v", bug.Name, n, bug.Mistake, bug.Catches)
			case !NamesOneOf(v.Output, bug.Catches):
				t.Fatalf("the suite failed %s, but names none of %v:\n%.6000s", bug.Name, bug.Catches, v.Output)
			case bug.Miss != "":
				t.Fatalf("the suite now catches %s, listed as a miss (%s): remove Miss from its row", bug.Name, bug.Miss)
			}
		})
	}
}

// CheckTable asserts that every bot is described, names are unique, and
// every listed invariant is one the suite has.
func CheckTable(t *testing.T, bugs []Bug, correct []CorrectBot) {
	known := map[string]bool{Hung: true, Interference: true, Vacuous: true}
	for _, inv := range properties.Invariants() {
		known[inv.ID] = true
	}
	names := map[string]bool{}
	for _, b := range bugs {
		if names[b.Name] || b.New == nil || b.Mistake == "" || len(b.Catches) == 0 || b.Rule == "" || (b.Miss != "" && b.Unreliable != "") {
			t.Errorf("%s: duplicate name, New, Mistake, Rule or Catches missing, or both Miss and Unreliable", b.Name)
		}
		names[b.Name] = true
		for _, id := range b.Catches {
			if !known[id] {
				t.Errorf("%s expects %s, which is no invariant of the suite", b.Name, id)
			}
		}
	}
	for _, b := range correct {
		if names[b.Name] || b.New == nil || b.What == "" || (b.Vacuous != "" && b.FalseAlarm != "") {
			t.Errorf("%s: duplicate name, New or What missing, or both Vacuous and FalseAlarm", b.Name)
		}
		names[b.Name] = true
	}
}
