package roundeighteen

import (
	"flag"
	"os"
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed. The rates that matter are those at quickChecks cases a run
// under -race (measured with -rapid.checks=30): the weakest rows not
// marked Unreliable were HookWaitsOnSwappedGroup (78 runs of 110),
// RecordingFlagCheckThenWrite (25 of 30), HookWaitsWithTimeout (92 of
// 110) and HookCancelsAndReturns (17 of 20); eight runs miss a row caught
// at 0.65 with probability 0.35^8, about 2 in 10,000.
const tries = 8

// quickChecks is how many cases a run of the suite draws in the package's
// default test: CI runs the package under -race beside the others on two
// cores, near its time limit, and a correct bot whose writers meet a Stop
// pays the suite's storage latency for each write (50 cases took 13 to
// 18 s for the package under -race on a loaded box, 30 take 8 to 12; at
// 25 the weakest caught rows fell to 10 and 12 in 20).
// Measure (MEASURE set) and an explicit -rapid.checks keep rapid's 100.
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
