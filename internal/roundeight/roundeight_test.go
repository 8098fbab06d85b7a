package roundeight

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random, and which invariant a drawn
// case breaks first varies; a caught row stops at its first catch. (Five:
// HookRecoverSwallowsPanic is caught in 7 runs in 10, with and without
// -race: a recording must end with a stream that had no frame. With three
// tries it passed about one CI run in forty.)
const tries = 5

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
