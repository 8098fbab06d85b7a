package buggybots

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recgate/recgate/properties"
)

// suiteWatchdog bounds one RunSuite: a suite that cannot tell a hung bot
// from a slow one would otherwise hold the test binary until go test's
// own timeout.
const suiteWatchdog = 30 * time.Second

func TestMain(m *testing.M) {
	flag.Parse()
	// These bots fail the suite on purpose: no rapid fail files for them.
	if f := flag.Lookup("rapid.nofailfile"); f != nil {
		_ = f.Value.Set("true")
	}
	// Nor do they need the shortest counterexample, only the verdict and
	// what it names: keep shrinking short, unless the command line asked.
	if f := flag.Lookup("rapid.shrinktime"); f != nil && f.Value.String() == f.DefValue {
		_ = f.Value.Set("1s")
	}
	os.Exit(m.Run())
}

// TestCorrectBotsPass: the suite passes wirings that keep the rule while
// doing what busy bots do (retrying throttled Starts, buffering, writing
// behind).
func TestCorrectBotsPass(t *testing.T) {
	for _, b := range Correct() {
		t.Run(b.Name, func(t *testing.T) { properties.Check(t, b.New) })
	}
}

// TestEachBugIsCaught: the suite fails every seeded bug, for one of the
// reasons the bug lists.
func TestEachBugIsCaught(t *testing.T) {
	for _, bug := range Bugs() {
		t.Run(bug.Name, func(t *testing.T) {
			if bug.Noninterference {
				if v := runSuite(t, bug); !v.Passed {
					t.Errorf("the default suite caught %s, which persists no media content; if it now traces derived numbers, clear Noninterference. Output:\n%s", bug.Name, v.Output)
				}
			}
			var opts []properties.Option
			if bug.Noninterference {
				opts = append(opts, properties.WithNoninterference())
			}
			for _, id := range bug.Catches {
				if id == Hung {
					// Every case that hangs costs the timeout, shrinking
					// included: a short one keeps this test quick. (The
					// README's table is measured with the default.)
					opts = append(opts, properties.WithTimeout(300*time.Millisecond))
					break
				}
			}
			// A run draws its cases at random, and which invariant a case
			// breaks first can vary: up to three runs to be caught for one of
			// the reasons the bug's row names.
			var v properties.SuiteVerdict
			for try := 0; try < 3; try++ {
				if v = runSuite(t, bug, opts...); !v.Passed && namesOneOf(v.Output, bug.Catches) {
					break
				}
			}
			if v.Passed {
				t.Fatalf("the suite passed %s (%s) in %v; it should name one of %v", bug.Name, bug.Mistake, v.Duration, bug.Catches)
			}
			if !namesOneOf(v.Output, bug.Catches) {
				t.Fatalf("the suite failed %s, but names none of %v:\n%s", bug.Name, bug.Catches, v.Output)
			}
			t.Logf("caught in %v", v.Duration.Round(time.Millisecond))
		})
	}
}

// runSuite runs the suite on bug once, failing the test if it does not
// return within suiteWatchdog (the run is left behind: a hung bot cannot
// be stopped from outside).
func runSuite(t *testing.T, bug Bug, opts ...properties.Option) properties.SuiteVerdict {
	t.Helper()
	done := make(chan properties.SuiteVerdict, 1)
	go func() { done <- properties.RunSuite(bug.New, opts...) }()
	select {
	case v := <-done:
		return v
	case <-time.After(suiteWatchdog):
		t.Fatalf("properties.RunSuite on %s did not return within %v: its watchdog did not end the run", bug.Name, suiteWatchdog)
		return properties.SuiteVerdict{}
	}
}

// namesOneOf reports whether output names one of the invariant IDs, or
// says the bot hung when Hung is listed.
func namesOneOf(output string, ids []string) bool {
	for _, id := range ids {
		if id == Hung || id == Interference {
			if strings.Contains(strings.ToLower(output), id) {
				return true
			}
			continue
		}
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + `\b`).MatchString(output) {
			return true
		}
	}
	return false
}

func TestNamesOneOf(t *testing.T) {
	cases := []struct {
		output string
		ids    []string
		want   bool
	}{
		{"P7 ConsentCoversCapture violated at write-begin", []string{"P7"}, true},
		{"P17 Something violated", []string{"P1", "P7"}, false},
		{"bot hung in Stop after 2s", []string{Hung}, true},
		{"bot hung in Stop after 2s", []string{"P9"}, false},
		{"P1 NoPersistOutsideConfirmedRecording violated", []string{"P7", "P1"}, true},
		{"noninterference violated: media that arrived outside", []string{Interference}, true},
	}
	for _, c := range cases {
		if got := namesOneOf(c.output, c.ids); got != c.want {
			t.Errorf("namesOneOf(%q, %v) = %v, want %v", c.output, c.ids, got, c.want)
		}
	}
}

// TestTheTableCoversEveryClass: one bug at least per class of issue 8,
// each described, each expecting a known invariant, names unique.
func TestTheTableCoversEveryClass(t *testing.T) {
	known := map[string]bool{Hung: true, Interference: true}
	for _, inv := range properties.Invariants() {
		known[inv.ID] = true
	}
	known["P8"] = true // checked where notifications are authenticated
	classes := map[string]int{}
	names := map[string]bool{}
	for _, b := range Bugs() {
		if names[b.Name] {
			t.Errorf("two bugs named %s", b.Name)
		}
		names[b.Name] = true
		if b.Class == "" || b.Mistake == "" || b.New == nil || len(b.Catches) == 0 {
			t.Errorf("%s: Class, Mistake, New and Catches must all be set", b.Name)
		}
		for _, id := range b.Catches {
			if !known[id] {
				t.Errorf("%s expects %s, which is no invariant of the suite", b.Name, id)
			}
		}
		classes[b.Class]++
	}
	for _, c := range []string{"pre-roll", "derived data", "write-behind", "optimistic open", "hook that does not flush",
		"one lease held across the recording", "retry on 8506", "stale update opens the gate",
		"media held across notRecording", "derived data without content"} {
		if classes[c] == 0 {
			t.Errorf("no bug of class %q", c)
		}
	}
	for _, b := range Correct() {
		if names[b.Name] && b.Name != "WriteBehind" {
			t.Errorf("correct bot %s shares a name with a bug", b.Name)
		}
	}
}

// Bugs is a table: a name, the invariants the suite should name, and the
// mistake.
func ExampleBugs() {
	for _, b := range Bugs() {
		fmt.Printf("%-33s %s\n", b.Name, strings.Join(b.Catches, ","))
	}
	// Output:
	// PreRoll                           P7
	// DerivedTranscript                 P7,P1,P9
	// WriteBehind                       P1,P7,P9
	// OptimisticOpen                    P1,P7
	// HookDoesNotFlush                  P1,P7,P9
	// LeaseAcrossRecording              hung,P7,P9
	// LeaseAcrossRecordingWithDeadline  hung,P7,P9
	// RetryOn8506                       P3
	// StaleUpdateOpens                  P1,P4,P7,P8
	// HeldAcrossStop                    P7
	// DigestOnly                        P7,noninterference
	// CountsOnly                        P7,noninterference
}
