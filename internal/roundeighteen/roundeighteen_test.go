package roundeighteen

import (
	"flag"
	"os"
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed (see the rows' rates).
const tries = 5

// quickChecks is how many cases a run of the suite draws in the package's
// default test (CI's whole run is near its limit). Measure (MEASURE set)
// and an explicit -rapid.checks keep rapid's 100.
const quickChecks = "30"

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue && os.Getenv("MEASURE") == "" {
		_ = f.Value.Set(quickChecks)
	}
	botrounds.Main(m)
}

// TestCorrectBotsPass: the suite passes Stop sides that keep the rule
// (botrounds.CheckCorrect).
func TestCorrectBotsPass(t *testing.T) { botrounds.CheckCorrect(t, Correct()) }

// TestEachBugIsCaught: the suite fails every buggy Stop side, naming one
// of the invariants it breaks, or skips with the diagnosis of a row
// marked Miss or Unreliable (botrounds.CheckBugs).
func TestEachBugIsCaught(t *testing.T) { botrounds.CheckBugs(t, Bugs(), tries) }

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }

// TestMeasure logs each bot's catch rate when asked (botrounds.Measure):
//
//	MEASURE='.' RUNS=10 go test -run TestMeasure -v -timeout 60m ./internal/roundeighteen
func TestMeasure(t *testing.T) { botrounds.Measure(t, Bugs(), Correct()) }
