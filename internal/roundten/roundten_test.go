package roundten

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random; a caught row stops at its
// first catch.
const tries = 3

func TestMain(m *testing.M) { botrounds.Main(m) }

// TestCorrectBotsPass: the suite passes bots that keep the rule while
// doing something unusual (botrounds.CheckCorrect).
func TestCorrectBotsPass(t *testing.T) { botrounds.CheckCorrect(t, Correct()) }

// TestEachBugIsCaught: the suite fails every buggy bot, naming one of the
// invariants the bug breaks, or skips with the diagnosis of a row marked
// Miss or Unreliable (botrounds.CheckBugs).
func TestEachBugIsCaught(t *testing.T) { botrounds.CheckBugs(t, Bugs(), tries) }

// TestTable: every bot is described, names are unique, and every listed
// invariant is one the suite has.
func TestTable(t *testing.T) { botrounds.CheckTable(t, Bugs(), Correct()) }
