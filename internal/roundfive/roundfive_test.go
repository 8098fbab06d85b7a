package roundfive

import (
	"testing"

	"github.com/recgate/recgate/internal/botrounds"
)

// tries is how many runs of the suite a bug gets before it counts as
// missed: a run draws its cases at random, and which invariant a drawn
// case breaks first varies. (Five: FailedIsDone and PipeCopy were caught
// 8 or 9 times in 10 on a loaded machine; a caught row stops at its first
// catch.)
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
