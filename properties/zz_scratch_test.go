package properties

import (
	"os"
	"strconv"
	"testing"
)

func TestScratchK(t *testing.T) {
	k, _ := strconv.Atoi(os.Getenv("K"))
	keep, _ := strconv.Atoi(os.Getenv("KEEP"))
	w, _ := strconv.Atoi(os.Getenv("W"))
	for _, cfg := range []ModelConfig{{Writers: k, keepAlive: keep, Workers: w}} {
		res, err := CheckModel(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("K=%d w=%d keep=%d: %d states, %d transitions, %d replays, depth %d, %s (%.0f states/s) ce=%v stuck=%d persist=%v", cfg.Writers, cfg.Workers, cfg.keepAlive, res.States, res.Transitions, res.Replays, res.Depth, res.Duration, res.StatesPerSecond(), res.Counterexample != nil, len(res.Stuck), res.PersistReachable)
		if res.Counterexample != nil {
			t.Log(res.Counterexample)
		}
	}
}
