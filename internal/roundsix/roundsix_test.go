package roundsix

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
	"github.com/recgate/recgate/properties"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random, and which invariant a drawn
// case breaks first varies. (Five: FailedIsDone, PipeCopy and
// GoroutinePerFrame were caught 8 or 9 times in 10 on a loaded machine;
// a caught row stops at its first catch.)
const tries = 5

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes bots that keep the rule while
// doing something unusual (botrounds.CheckCorrect).
func TestCorrectBotsPass(t *testing.T) { botrounds.CheckCorrect(t, Correct()) }

// TestEachBugIsCaught: the suite fails every buggy bot, naming one of the
// invariants the bug breaks (botrounds.CheckBugs).
func TestEachBugIsCaught(t *testing.T) { botrounds.CheckBugs(t, Bugs(), tries) }

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }

// TestNeverRecordsIsVacuous: a bot that refuses every Start keeps the rule
// trivially, and the suite fails it as vacuous rather than passing it: a
// run that persisted nothing proves nothing about the wiring (the same
// verdict would come from a bot whose frames all go to storage the suite
// does not see). The message must say so, and name no invariant.
func TestNeverRecordsIsVacuous(t *testing.T) {
	v := botrounds.RunSuite(t, "NeverRecords", NewNeverRecords)
	if v.Passed {
		t.Fatalf("the suite passed a bot that never records; it should call the run vacuous:\n%.3000s", v.Output)
	}
	if !botrounds.NamesOneOf(v.Output, []string{Vacuous}) {
		t.Fatalf("the suite failed NeverRecords without calling it vacuous:\n%.3000s", v.Output)
	}
	for _, inv := range properties.Invariants() {
		if botrounds.NamesOneOf(v.Output, []string{inv.ID}) {
			t.Fatalf("the suite blames NeverRecords for %s, though it never asks Graph to record and persists nothing:\n%.3000s", inv, v.Output)
		}
	}
}
