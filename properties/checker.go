package properties

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recgate/recgate/fsm"
)

// ModelResult is what one exhaustive run found.
type ModelResult struct {
	Config      ModelConfig   // the bounds it ran with
	States      int           // distinct abstract states visited
	Transitions int           // moves taken between them
	Depth       int           // the longest shortest path, in moves
	Duration    time.Duration // wall time
	// Replays counts the machines built to replay a path from the start
	// (the rest of the transitions went on from a paused machine).
	Replays int
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
	// reached (should be empty), each as the machine state and the
	// shortest path of moves to it.
	Stuck []string
	// GateSteps is true when the checker paused inside the gate's own
	// atomic steps (a build with the recgate_checker tag).
	GateSteps bool

	edges [][2]int32
	nodes []node
}

// StatesPerSecond is the search's speed.
func (r *ModelResult) StatesPerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.States) / r.Duration.Seconds()
}

// node is a state of the product, as the search keeps it: how it was first
// reached (its shortest path, breadth first), and its machine state.
type node struct {
	parent int32
	depth  int32
	mv     move
	state  fsm.State
}

// Counterexample is a shortest path to a violation.
type Counterexample struct {
	Moves      []string    // the path's moves, in order
	Events     []Event     // what the suite observed along it
	Violations []Violation // what the last move broke
	states     []int       // node ids along the path, for the DOT highlight
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
//
// The frontier is expanded by several goroutines at once (each on machines
// of its own) and their findings are taken in breadth-first order, so the
// states, their numbering and the counterexample are those of a search on
// one goroutine. A machine is not copied: a state is reached by replaying
// its path on a fresh machine, except that the search goes on from a
// machine it has in hand whenever it can: after a move that leaves the
// abstract state unchanged, and from any machine that reached a state not
// expanded yet, by that state's own path or by another (up to a bound).
// That is sound because the abstract state (sim.key) is complete: it
// decides everything that can happen next, so two machines with the same
// key have the same futures. Self-tests replay states afresh and compare
// (checkReplays), compare the search with one that goes on only from each
// state's own path, and check that every merge of two paths joins machines
// with the same next steps (checker_key_test.go).
func CheckModel(cfg ModelConfig) (*ModelResult, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	defer relaxGC()()
	e := newExplorer(cfg)
	defer e.stop()
	res, err := e.run()
	if err != nil {
		return nil, err
	}
	res.Duration = time.Since(start)
	return res, nil
}

// explorer is one breadth-first search.
type explorer struct {
	cfg  ModelConfig
	res  *ModelResult
	ids  map[string]int32
	keys []string
	// alive holds paused machines at node id, to go on from: the one that
	// found it, and others whose move led back to it before it was
	// expanded.
	alive [][]*sim
	// writers are the writer tuples (sim.writerTuples) of a replay of node
	// id's path: a machine whose tuples differ has the same key but its
	// writers renamed, so the moves listed at id would mean other moves to
	// it. Such a machine is not kept for id.
	writers []string
	nAlive  atomic.Int64
	replays atomic.Int64
	runners *runnerPool
	// firstOf is the first state (in breadth-first order) of each machine
	// state, where introspection also exports the diagram.
	firstOf map[fsm.State]int32
	// maxGoroutines: beyond it, the search keeps no more paused machines.
	maxGoroutines int
	// donate: a machine that reaches a state seen but not expanded yet, by
	// another path, is kept to expand that state (see donateSeen).
	donate bool
}

// transition is what one move from a node led to.
type transition struct {
	key        string
	state      fsm.State
	violations []Violation
	persisted  bool
	// sim is paused at the state reached, kept to go on from there: a new
	// state, or one seen but not expanded yet (or nil).
	sim     *sim
	writers string // the writer tuples at a new state, or of the kept sim
}

type expansion struct {
	moves []move
	out   []transition
	err   error
}

func newExplorer(cfg ModelConfig) *explorer {
	maxGoroutines := 1 << 20
	if raceDetector() {
		// The race detector allows 8128 goroutines in all; each kept
		// machine holds one to three paused goroutines, one more per
		// writer with the gate's own steps.
		maxGoroutines = 6000
	}
	if cfg.keepAlive == 0 {
		// A kept machine costs about 50 KB (its heap and the stacks of its
		// paused goroutines): up to about 600 MB in all.
		cfg.keepAlive = 12000
	}
	return &explorer{
		cfg:     cfg,
		res:     &ModelResult{Config: cfg, StatesReached: map[fsm.State]int{}, TriggersFired: map[string]int{}, Complete: true},
		ids:     map[string]int32{},
		runners: &runnerPool{},
		firstOf: map[fsm.State]int32{},

		maxGoroutines: maxGoroutines,
		donate:        donateSeen && !cfg.noDonate,
	}
}

func (e *explorer) stop() {
	for i, ss := range e.alive {
		for _, s := range ss {
			s.close()
		}
		e.alive[i] = nil
	}
	e.runners.close()
}

func (e *explorer) replay(path []move) (*sim, error) {
	e.replays.Add(1)
	return replay(e.cfg, path, e.runners.spawn, true)
}

// path is node id's shortest path.
func (e *explorer) path(id int32) []move {
	p := make([]move, e.res.nodes[id].depth)
	for i := len(p) - 1; i >= 0; i-- {
		p[i] = e.res.nodes[id].mv
		id = e.res.nodes[id].parent
	}
	return p
}

func (e *explorer) run() (*ModelResult, error) {
	res := e.res
	root, err := e.replay(nil)
	if err != nil {
		return nil, err
	}
	res.GateSteps = root.steps
	e.nAlive.Add(1)
	e.add(string(root.key(nil)), string(root.writerTuples(nil)), node{parent: -1, state: root.m.State()}, root)
	res.StatesReached[fsm.NotRecording]++

	workers := e.cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const batchSize = 128
	queue := []int32{0}
	for head := 0; head < len(queue); {
		batch := queue[head:min(head+batchSize, len(queue))]
		head += len(batch)
		last := batch[len(batch)-1]
		exps := make([]expansion, len(batch))
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < min(workers, len(batch)); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(batch); i = int(next.Add(1)) - 1 {
					exps[i] = e.expand(batch[i], last)
				}
			}()
		}
		wg.Wait()
		done, err := e.commit(batch, exps, &queue)
		for _, x := range exps {
			for _, tr := range x.out {
				if tr.sim != nil {
					tr.sim.close()
					e.nAlive.Add(-1)
				}
			}
		}
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
	}
	res.States = len(e.keys)
	res.Replays = int(e.replays.Load())
	if res.Counterexample == nil && res.Complete {
		res.Stuck = e.stuckStates()
	}
	return res, nil
}

// add records a new state.
func (e *explorer) add(key, writers string, n node, s *sim) int32 {
	id := int32(len(e.keys))
	e.ids[key] = id
	e.keys = append(e.keys, key)
	e.res.nodes = append(e.res.nodes, n)
	e.alive = append(e.alive, nil)
	e.writers = append(e.writers, writers)
	if s != nil {
		e.alive[id] = append(e.alive[id], s)
	}
	if _, ok := e.firstOf[n.state]; !ok {
		e.firstOf[n.state] = id
	}
	return id
}

// expand tries every move possible at node id (on a worker goroutine). It
// only reads the explorer's tables, which change only in commit, between
// batches; last is the batch's last node: the nodes after it are not
// expanded yet, so a machine that reaches one of them is worth keeping.
func (e *explorer) expand(id, last int32) expansion {
	// take is a machine paused at node id: a kept one, or a replay.
	take := func() (*sim, error) {
		if pool := e.alive[id]; len(pool) > 0 {
			s := pool[len(pool)-1]
			e.alive[id] = pool[:len(pool)-1]
			e.nAlive.Add(-1)
			return s, nil
		}
		return e.replay(e.path(id))
	}
	defer func() {
		for _, s := range e.alive[id] {
			s.close()
			e.nAlive.Add(-1)
		}
		e.alive[id] = nil
	}()
	s, err := take()
	if err != nil {
		return expansion{err: err}
	}
	here := e.keys[id]
	x := expansion{moves: s.enabled(true)}
	x.out = make([]transition, len(x.moves))
	var buf []byte
	for _, j := range tryOrder(x.moves) {
		mv := x.moves[j]
		if s == nil {
			if s, err = take(); err != nil {
				x.err = err
				return x
			}
		}
		before := len(s.violations)
		// The diagram export is a function of the machine's configuration
		// and its State alone (stateless's ToGraph reads the state and the
		// configuration and calls no guard), so it is checked in the first
		// state of each machine state only: it costs more than the rest
		// of a transition.
		s.skipDiagram = mv.kind == mvIntrospect && e.firstOf[e.res.nodes[id].state] != id
		if err := s.apply(mv); err != nil {
			s.close()
			x.err = err
			return x
		}
		buf = s.key(buf[:0])
		tr := &x.out[j]
		tr.state, tr.persisted = s.m.State(), s.persists > 0
		tr.violations = append([]Violation(nil), s.violations[before:]...)
		if string(buf) == here && len(tr.violations) == 0 {
			tr.key = here // nothing changed: go on from this machine
			continue
		}
		tr.key = string(buf)
		// Keep the machine if the state it reached is new, or seen but
		// not expanded yet (it will need machines paused there): the
		// abstract state decides the future, so it serves as well as a
		// replay of that state's own path (see donateSeen).
		to, seen := e.ids[tr.key]
		keep := len(tr.violations) == 0 && !seen
		if len(tr.violations) == 0 && seen && to > last && e.donate {
			buf = s.writerTuples(buf[:0])
			keep = string(buf) == e.writers[to]
		}
		if !seen {
			tr.writers = string(s.writerTuples(buf[:0]))
		}
		if keep && e.nAlive.Add(1) <= int64(e.cfg.keepAlive) && runtime.NumGoroutine() < e.maxGoroutines {
			tr.sim = s
			if seen {
				tr.writers = e.writers[to]
			}
		} else {
			if keep {
				e.nAlive.Add(-1)
			}
			s.close()
		}
		s = nil
	}
	if s != nil {
		s.close()
	}
	return x
}

// commit takes a batch's findings in breadth-first order. It reports
// whether the search is over.
func (e *explorer) commit(batch []int32, exps []expansion, queue *[]int32) (bool, error) {
	res := e.res
	for i, from := range batch {
		x := exps[i]
		if x.err != nil {
			return true, x.err
		}
		for j, mv := range x.moves {
			tr := &x.out[j]
			res.Transitions++
			id, seen := e.ids[tr.key]
			if !seen {
				depth := res.nodes[from].depth + 1
				id = e.add(tr.key, tr.writers, node{parent: from, depth: depth, mv: mv, state: tr.state}, tr.sim)
				tr.sim = nil
				res.StatesReached[tr.state]++
				if mv.kind == mvEvent {
					res.TriggersFired[eventLabels[mv.who]]++
				}
				if tr.persisted {
					res.PersistReachable = true
				}
				res.Depth = max(res.Depth, int(depth))
				if e.cfg.checkReplays {
					if err := e.checkReplay(id); err != nil {
						return true, err
					}
				}
			}
			if e.donate && tr.sim != nil && len(e.alive[id]) < maxKept && tr.writers == e.writers[id] {
				e.alive[id] = append(e.alive[id], tr.sim) // one more machine paused there
				tr.sim = nil
			}
			res.edges = append(res.edges, [2]int32{from, id})
			if len(tr.violations) > 0 {
				return true, e.counterexample(from, mv, id)
			}
			if !seen {
				*queue = append(*queue, id)
			}
			if e.cfg.MaxStates > 0 && len(e.keys) >= e.cfg.MaxStates {
				res.Complete = false
				return true, nil
			}
		}
	}
	return false, nil
}

// counterexample replays the violating path on a fresh machine, for its
// events, and checks that the violation comes back.
func (e *explorer) counterexample(from int32, mv move, to int32) error {
	path := append(e.path(from), mv)
	e.replays.Add(1)
	s, err := replay(e.cfg, path, e.runners.spawn, false)
	if err != nil {
		return err
	}
	defer s.close()
	if len(s.violations) == 0 {
		return fmt.Errorf("properties: the model checker found a violation after %v but a fresh replay of that path does not show it: the abstract state misses something (a bug in the checker)", path)
	}
	ce := &Counterexample{Events: s.events, Violations: s.violations}
	for _, m := range path {
		ce.Moves = append(ce.Moves, m.String())
	}
	for x := from; x >= 0; x = e.res.nodes[x].parent {
		ce.states = append([]int{int(x)}, ce.states...)
	}
	ce.states = append(ce.states, int(to))
	e.res.Counterexample = ce
	return nil
}

// checkReplay replays node id's path on a fresh machine and compares the
// abstract state with the one the search found going on from a paused
// machine.
func (e *explorer) checkReplay(id int32) error {
	s, err := e.replay(e.path(id))
	if err != nil {
		return err
	}
	defer s.close()
	if got := string(s.key(nil)); got != e.keys[id] {
		return fmt.Errorf("properties: state %d: a fresh replay of %v reaches another abstract state than the search did (a bug in the checker)\n%v\n%v", id, e.path(id), []byte(got), []byte(e.keys[id]))
	}
	return nil
}

// stuckStates lists reachable states from which no path leads back to
// NotRecording or Ended.
func (e *explorer) stuckStates() []string {
	res := e.res
	back := make([][]int32, len(res.nodes))
	for _, ed := range res.edges {
		back[ed[1]] = append(back[ed[1]], ed[0])
	}
	ok := make([]bool, len(res.nodes))
	var stack []int32
	for id, n := range res.nodes {
		if n.state == fsm.NotRecording || n.state == fsm.Ended {
			ok[id] = true
			stack = append(stack, int32(id))
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
			var moves []string
			for _, m := range e.path(int32(id)) {
				moves = append(moves, m.String())
			}
			stuck = append(stuck, fmt.Sprintf("%s after %s", res.nodes[id].state, strings.Join(moves, ", ")))
		}
	}
	sort.Strings(stuck)
	return stuck
}
