package properties

import (
	"runtime/debug"
	"sync"
)

// The order moves are tried in, and the runtime settings the search
// changes while it runs.

// tryOrder is the order in which expand tries the moves: those that most
// often change nothing first (introspection; a writer's move, which is
// refused while the gate is closed), so that one machine serves them all
// before a move changes the state and the next needs a replay.
func tryOrder(ms []move) []int {
	order := make([]int, 0, len(ms))
	for pass := 0; pass < 3; pass++ {
		for j, mv := range ms {
			rank := 2
			switch mv.kind {
			case mvIntrospect:
				rank = 0
			case mvAcquire:
				rank = 1
			}
			if rank == pass {
				order = append(order, j)
			}
		}
	}
	return order
}

// gcRelax counts the searches under way that relaxed the garbage
// collector; gcBefore is its setting before the first.
var (
	gcRelaxMu sync.Mutex
	gcRelax   int
	gcBefore  int
)

// relaxGC lets the heap grow three times its live size between
// collections (GOGC=200) while a search runs, unless the program asked
// for more already, and returns what restores the setting once the last
// search is over. The paused machines the search keeps are most of the
// live heap and never garbage: marking them at the default setting takes
// about a fifth of the search's time.
func relaxGC() (restore func()) {
	gcRelaxMu.Lock()
	defer gcRelaxMu.Unlock()
	if gcRelax == 0 {
		gcBefore = debug.SetGCPercent(-1)
		debug.SetGCPercent(gcBefore)
		if gcBefore > 0 && gcBefore < 200 {
			debug.SetGCPercent(200)
		}
	}
	gcRelax++
	return func() {
		gcRelaxMu.Lock()
		defer gcRelaxMu.Unlock()
		if gcRelax--; gcRelax == 0 {
			debug.SetGCPercent(gcBefore)
		}
	}
}

// raceDetector reports whether the program was built with -race.
func raceDetector() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// donateSeen keeps a machine that reached a state seen but not expanded
// yet, by another path, to expand that state (it halves the replays). That
// is sound only because the key is complete: two machines with the same key
// have the same futures. It was not, once: after [ev:start ev:dup:start
// step:control reply:control:pending ev:stop ... ev:start] and after
// [ev:start step:control reply:control:pending ev:stop ... ev:start
// ev:dup:start] the key was the same, but the duplicated Start had read the
// gate's epoch before the Stop on one path (its request is then
// superseded) and after it on the other (it sends one). The key now
// compares every attempt's epoch with the gate's, and says which attempt
// the pending operation names (machineKey); TestKeyTellsStaleAttemptsApart
// replays that pair, TestDonatedMachinesAgree and TestMergesAreSound check
// the whole search.
const donateSeen = true

// maxKept bounds the paused machines kept at one state: it is left with
// one per move that changes the state, and few states have more.
const maxKept = 4
