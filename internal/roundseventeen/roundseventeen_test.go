package roundseventeen

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed.
const tries = 3

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes hand-offs that keep the rule
// (botrounds.CheckCorrect).
func TestCorrectBotsPass(t *testing.T) { botrounds.CheckCorrect(t, Correct()) }

// TestEachBugIsCaught: the suite fails every buggy hand-off, naming one of
// the invariants it breaks, or skips with the diagnosis of a row marked
// Miss or Unreliable (botrounds.CheckBugs).
func TestEachBugIsCaught(t *testing.T) { botrounds.CheckBugs(t, Bugs(), tries) }

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }

// TestMeasure logs each bot's catch rate when asked (botrounds.Measure):
//
//	MEASURE='.' RUNS=10 go test -run TestMeasure -v -timeout 60m ./internal/roundseventeen
func TestMeasure(t *testing.T) { botrounds.Measure(t, Bugs(), Correct()) }
