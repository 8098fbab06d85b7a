package properties

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/recgate/recgate/fsm"
)

// ModelResult is what one exhaustive run found.
type ModelResult struct {
	Config      ModelConfig
	States      int
	Transitions int
	Depth       int
	Duration    time.Duration
	// Complete is false when MaxStates cut the search short.
	Complete bool
	// Counterexample is the shortest path to the first violation found
	// (breadth-first), or nil.
	Counterexample *Counterexample
	// Coverage: how often each machine state was reached and each trigger
	// began; PersistReachable says a write was persisted somewhere (the
	// check is not vacuous).
	StatesReached    map[fsm.State]int
	TriggersFired    map[string]int
	PersistReachable bool
	// Stuck lists states from which neither NotRecording nor Ended can be
	// reached (should be empty).
	Stuck []string

	edges [][2]int
	keys  []string
}

// Counterexample is a shortest path to a violation.
type Counterexample struct {
	Moves      []string
	Events     []Event
	Violations []Violation
	states     []int // node ids along the path, for the DOT highlight
}

// String prints the counterexample for a person: the moves, the events
// they caused, and what broke.
func (c *Counterexample) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shortest counterexample (%d moves):\n", len(c.Moves))
	for i, mv := range c.Moves {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, mv)
	}
	b.WriteString("events:\n")
	b.WriteString(describeEvents(c.Events))
	b.WriteString(describe(c.Violations))
	return b.String()
}

// CheckModel explores every interleaving of the bounded model breadth
// first, checking every invariant on every event, so the first violation
// found has a shortest path.
func CheckModel(cfg ModelConfig) (*ModelResult, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	res := &ModelResult{Config: cfg, StatesReached: map[fsm.State]int{}, TriggersFired: map[string]int{}, Complete: true}

	type node struct {
		id    int
		path  []move
		moves []move
	}
	root, err := replay(cfg, nil)
	if err != nil {
		return nil, err
	}
	ids := map[string]int{root.key(): 0}
	res.keys = append(res.keys, root.key())
	machineState := []fsm.State{root.m.State()}
	parent := []int{-1}
	queue := []node{{id: 0, moves: root.enabled()}}
	root.close()
	res.StatesReached[fsm.NotRecording]++

	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, mv := range n.moves {
			path := append(append([]move(nil), n.path...), mv)
			s, err := replay(cfg, path)
			if err != nil {
				return nil, err
			}
			res.Transitions++
			k := s.key()
			fromID := n.id
			id, seen := ids[k]
			if !seen {
				id = len(res.keys)
				ids[k] = id
				res.keys = append(res.keys, k)
				machineState = append(machineState, s.m.State())
				parent = append(parent, fromID)
				res.StatesReached[s.m.State()]++
				if strings.HasPrefix(string(mv), "ev:") {
					res.TriggersFired[strings.TrimPrefix(string(mv), "ev:")]++
				}
				if s.persists > 0 {
					res.PersistReachable = true
				}
				if len(path) > res.Depth {
					res.Depth = len(path)
				}
			}
			res.edges = append(res.edges, [2]int{fromID, id})
			if len(s.violations) > 0 {
				ce := &Counterexample{Events: s.events, Violations: s.violations}
				for _, m := range path {
					ce.Moves = append(ce.Moves, string(m))
				}
				for x := id; x >= 0; x = parent[x] {
					ce.states = append([]int{x}, ce.states...)
				}
				res.Counterexample = ce
				s.close()
				res.States = len(res.keys)
				res.Duration = time.Since(start)
				return res, nil
			}
			if !seen {
				queue = append(queue, node{id: id, path: path, moves: s.enabled()})
			}
			s.close()
			if cfg.MaxStates > 0 && len(res.keys) >= cfg.MaxStates {
				res.Complete = false
				queue = nil
				break
			}
		}
	}
	res.States = len(res.keys)
	res.Duration = time.Since(start)
	res.Stuck = stuckStates(res, machineState)
	return res, nil
}

// stuckStates lists reachable states from which no path leads back to
// NotRecording or Ended.
func stuckStates(res *ModelResult, machineState []fsm.State) []string {
	back := make([][]int, len(res.keys))
	for _, e := range res.edges {
		back[e[1]] = append(back[e[1]], e[0])
	}
	ok := make([]bool, len(res.keys))
	var stack []int
	for id, st := range machineState {
		if st == fsm.NotRecording || st == fsm.Ended {
			ok[id] = true
			stack = append(stack, id)
		}
	}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, p := range back[x] {
			if !ok[p] {
				ok[p] = true
				stack = append(stack, p)
			}
		}
	}
	var stuck []string
	for id, good := range ok {
		if !good {
			stuck = append(stuck, res.keys[id])
		}
	}
	sort.Strings(stuck)
	return stuck
}
