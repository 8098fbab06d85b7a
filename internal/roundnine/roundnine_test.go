package roundnine

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random, and a storage fault (the
// trigger of every bug here) is drawn in about one case in four.
const tries = 3

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes storage code that keeps the rule
// on storage that fails now and then (botrounds.CheckCorrect).
func TestCorrectBotsPass(t *testing.T) { botrounds.CheckCorrect(t, Correct()) }

// TestEachBugIsCaught: the suite fails every buggy storage error path,
// naming one of the invariants the bug breaks (botrounds.CheckBugs).
func TestEachBugIsCaught(t *testing.T) { botrounds.CheckBugs(t, Bugs(), tries) }

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }
