package userbots

import (
	"regexp"
	"strings"
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
)

// tries is how many runs of the suite a bug gets: a run draws its cases
// at random, and a bug the suite catches reliably is caught in one.
const tries = 3

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes bots that keep the rule while
// doing something unusual.
func TestCorrectBotsPass(t *testing.T) {
	for _, b := range Correct() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			if b.Vacuous != "" {
				v := botrounds.RunSuite(t, b.Name, b.New)
				if v.Passed || !strings.Contains(v.Output, "vacuous run") || !strings.Contains(v.Output, "plaintext") {
					t.Fatalf("%s (%s): the suite must fail the run as vacuous and say to hand env.Sink the plaintext; passed=%v:\n%.2000s", b.Name, b.Vacuous, v.Passed, v.Output)
				}
				return
			}
			if v := botrounds.RunSuite(t, b.Name, b.New); !v.Passed {
				t.Fatalf("the suite failed %s, which keeps the rule (%s):\n%s", b.Name, b.What, v.Output)
			}
		})
	}
}

// TestEachBugIsCaught: the suite fails every buggy bot, naming one of the
// invariants the bug breaks.
func TestEachBugIsCaught(t *testing.T) {
	for _, bug := range Bugs() {
		t.Run(bug.Name, func(t *testing.T) {
			t.Parallel()
			if bug.Limit != "" {
				v := botrounds.RunSuite(t, bug.Name, bug.New, bug.Options...)
				if namesOneOf(v.Output, bug.Catches) {
					t.Fatalf("the default suite now names %v for %s, past its documented limit (%s): update the docs and this row", bug.Catches, bug.Name, bug.Limit)
				}
				return
			}
			// A run draws its cases at random, and which invariant a case
			// breaks first can vary: a bug gets up to tries runs to be caught
			// for one of the reasons its row names.
			var v properties.SuiteVerdict
			for i := 0; i < tries; i++ {
				if v = botrounds.RunSuite(t, bug.Name, bug.New, bug.Options...); !v.Passed && namesOneOf(v.Output, bug.Catches) {
					break
				}
			}
			if v.Passed {
				t.Fatalf("the suite passed %s %d times (%s); it should name one of %v", bug.Name, tries, bug.Mistake, bug.Catches)
			}
			if !namesOneOf(v.Output, bug.Catches) {
				t.Fatalf("the suite failed %s, but names none of %v:\n%s", bug.Name, bug.Catches, v.Output)
			}
		})
	}
}

// namesOneOf reports whether output names one of ids as a broken
// invariant ("P7 ConsentCoversCapture violated"), or says the bot hung, or
// that noninterference failed, when those are listed.
func namesOneOf(output string, ids []string) bool {
	for _, id := range ids {
		switch id {
		case Hung:
			if strings.Contains(output, "hung in") {
				return true
			}
		case Interference:
			if strings.Contains(output, "noninterference violated") {
				return true
			}
		default:
			// "P1 NoPersist... violated", also in a headline that lists
			// several ("P1 NoPersist..., P7 Consent... violated").
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(id) + ` [A-Z]\w+\b[^\n]* violated`).MatchString(output) {
				return true
			}
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
		{"P1 NoPersistOutsideConfirmedRecording, P7 ConsentCoversCapture violated (report below)", []string{"P1"}, true},
		{"rule: ... P7 ...; vacuous: no frame was persisted", []string{"P7"}, false},
		{"the bot hung in Stop after 2s", []string{Hung}, true},
		{"noninterference violated (P7 ConsentCoversCapture, for derived data)", []string{Interference}, true},
		{"noninterference violated (P7 ConsentCoversCapture, for derived data)", []string{"P7"}, false},
	}
	for _, c := range cases {
		if got := namesOneOf(c.output, c.ids); got != c.want {
			t.Errorf("namesOneOf(%q, %v) = %v, want %v", c.output, c.ids, got, c.want)
		}
	}
}

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) {
	known := map[string]bool{Hung: true, Interference: true}
	for _, inv := range properties.Invariants() {
		known[inv.ID] = true
	}
	names := map[string]bool{}
	for _, b := range Bugs() {
		if names[b.Name] || b.New == nil || b.Mistake == "" || len(b.Catches) == 0 || b.Rule == "" {
			t.Errorf("%s: duplicate name, or New, Mistake, Rule or Catches missing", b.Name)
		}
		names[b.Name] = true
		for _, id := range b.Catches {
			if !known[id] {
				t.Errorf("%s expects %s, which is no invariant of the suite", b.Name, id)
			}
		}
	}
	for _, b := range Correct() {
		if names[b.Name] || b.New == nil || b.What == "" {
			t.Errorf("%s: duplicate name, or New or What missing", b.Name)
		}
		names[b.Name] = true
	}
}
