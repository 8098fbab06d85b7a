package roundseventeen

import (
	"flag"
	"os"
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: the weakest row not marked Unreliable, DoubleBufferTickerSwap,
// was caught in 8 runs of 10 (10/10 under -race), so five runs miss it
// with probability 0.2^5, about 3 in 10,000; every other row was caught
// 10/10 both ways.
const tries = 5

// quickChecks is how many cases a run of the suite draws in the package's
// default test: a correct bot runs the whole suite, and one whose writers
// meet a Stop pays the suite's storage latency for each write, so 100
// cases took 4 s per correct bot under -race on two shared cores.
// Measure (MEASURE set) and an explicit -rapid.checks keep rapid's 100.
const quickChecks = "50"

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == f.DefValue && os.Getenv("MEASURE") == "" {
		_ = f.Value.Set(quickChecks)
	}
	botrounds.Main(m)
}

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
