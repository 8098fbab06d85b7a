package roundthree

import (
	"regexp"
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random.
const tries = 3

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes bots that keep the rule while
// doing something unusual.
func TestCorrectBotsPass(t *testing.T) {
	for _, b := range Correct() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			if v := botrounds.RunSuite(t, b.Name, b.New); !v.Passed {
				t.Fatalf("the suite failed %s, which keeps the rule (%s):\n%.6000s", b.Name, b.What, v.Output)
			}
		})
	}
}

// TestEachBugIsCaught: the suite fails every buggy bot, naming one of the
// invariants the bug breaks. A known miss skips with its diagnosis.
func TestEachBugIsCaught(t *testing.T) {
	for _, bug := range Bugs() {
		t.Run(bug.Name, func(t *testing.T) {
			t.Parallel()
			n := tries
			if bug.Miss != "" {
				n = 1 // measured 0 of 10 (TestMeasure); one run keeps it in sight
			}
			// Which invariant a drawn case breaks first can vary: a bug gets
			// up to n runs to be caught for one of the reasons its row names.
			var v properties.SuiteVerdict
			for i := 0; i < n; i++ {
				if v = botrounds.RunSuite(t, bug.Name, bug.New, bug.Options...); !v.Passed && namesOneOf(v.Output, bug.Catches) {
					break
				}
			}
			switch {
			case bug.Miss != "" && (v.Passed || !namesOneOf(v.Output, bug.Catches)):
				t.Skipf("suite misses this: %s (%s)", bug.Miss, bug.Mistake)
			case v.Passed:
				t.Fatalf("the suite passed %s %d times (%s); it should name one of %v", bug.Name, n, bug.Mistake, bug.Catches)
			case !namesOneOf(v.Output, bug.Catches):
				t.Fatalf("the suite failed %s, but names none of %v:\n%.6000s", bug.Name, bug.Catches, v.Output)
			case bug.Miss != "":
				t.Fatalf("the suite now catches %s, listed as a miss (%s): remove Miss from its row", bug.Name, bug.Miss)
			}
		})
	}
}

// namesOneOf reports whether output names one of ids as a broken
// invariant ("P7 ConsentCoversCapture violated", also in a headline that
// lists several), says the bot hung, or that noninterference failed. It
// is botrounds.NamesOneOf but stricter for Vacuous: this round's rows
// expect the per-stream vacuity ("vacuous run on stream"), so its own
// loops below use it.
func namesOneOf(output string, ids []string) bool {
	for _, id := range ids {
		var re *regexp.Regexp
		switch id {
		case Hung:
			re = regexp.MustCompile(`hung in`)
		case Interference:
			re = regexp.MustCompile(`noninterference violated`)
		case Vacuous:
			re = regexp.MustCompile(`vacuous run on stream`)
		default:
			re = regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + ` [A-Z]\w+\b[^\n]* violated`)
		}
		if re.MatchString(output) {
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
		{"P10 UniqueClientContext violated", []string{"P1"}, false},
		{"P1 NoPersistOutsideConfirmedRecording, P9 NoWriteAfterStopAsked violated (report below)", []string{"P9"}, true},
		{"the bot hung in CallEnded: ...", []string{Hung}, true},
		{"noninterference violated (P7 ConsentCoversCapture, for derived data)", []string{"P7"}, false},
		{"noninterference violated: media from outside", []string{Interference}, true},
	}
	for _, c := range cases {
		if got := namesOneOf(c.output, c.ids); got != c.want {
			t.Errorf("namesOneOf(%q, %v) = %v, want %v", c.output, c.ids, got, c.want)
		}
	}
}

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }
