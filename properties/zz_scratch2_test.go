package properties

import (
	"testing"

	"github.com/recgate/recgate/internal/hooks"
)

func TestScratchGate(t *testing.T) {
	for _, mut := range append([]hooks.Mutant{0}, hooks.GateInternal...) {
		for _, k := range []int{1, 2} {
			res, err := CheckModel(ModelConfig{Writers: k, mutants: mut})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s K=%d steps=%v: %d states, %d transitions, %d replays, %s ce=%v", mut, k, res.GateSteps, res.States, res.Transitions, res.Replays, res.Duration, res.Counterexample != nil)
			if res.Counterexample != nil {
				t.Log(res.Counterexample)
			}
		}
	}
}
