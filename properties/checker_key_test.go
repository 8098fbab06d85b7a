package properties

import (
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/recgate/recgate/internal/hooks"
)

// replayMoves replays moves (as counterexamples print them) on a fresh
// machine that records no events.
func replayMoves(t *testing.T, cfg ModelConfig, moves []string) *sim {
	t.Helper()
	var path []move
	for _, text := range moves {
		mv, err := parseMove(text)
		if err != nil {
			t.Fatal(err)
		}
		path = append(path, mv)
	}
	s, err := replay(cfg.withDefaults(), path, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The pair of paths that made the search unsound when it went on from
// machines of other paths: both leave a duplicated Start waiting for the
// lock, in the same machine state, with the same writers and world; but on
// the first the duplicate began before the Stop (its attempt is stale:
// Stop closed the gate and moved its epoch on), on the second after it.
// The key must tell them apart, because their futures differ: the stale
// attempt is superseded without a request, the other sends one.
func TestKeyTellsStaleAttemptsApart(t *testing.T) {
	cfg := ModelConfig{Writers: 1}
	stale := []string{"ev:start", "ev:dup:start", "step:control", "reply:control:pending", "ev:stop", "step:control", "step:control",
		"reply:control:completed", "ev:update:failed", "step:control", "ev:start"}
	current := []string{"ev:start", "step:control", "reply:control:pending", "ev:stop", "step:control", "step:control",
		"reply:control:completed", "ev:update:failed", "step:control", "ev:start", "ev:dup:start"}
	a, b := replayMoves(t, cfg, stale), replayMoves(t, cfg, current)
	ka, kb := string(a.key(nil)), string(b.key(nil))
	a.close()
	b.close()
	// What decides the future: does the duplicate's step send a request?
	requests := func(moves []string) int {
		s := replayMoves(t, cfg, append(moves[:len(moves):len(moves)], "step:dup"))
		defer s.close()
		return s.world.RequestsThisAttempt[threadDup]
	}
	ra, rb := requests(stale), requests(current)
	if ra == rb {
		t.Fatalf("the pair no longer shows what it was kept for: the duplicate sends %d request(s) on both paths", ra)
	}
	if ka == kb {
		t.Fatalf("the key does not tell a stale attempt from a current one: same key %x after\n%v (the duplicate's step sends %d request(s))\nand\n%v (%d)",
			ka, stale, ra, current, rb)
	}
}

// graphPrint is the product graph as a search found it: the states in
// order with their shortest paths, the edges, the coverage and the verdict.
// Two searches that agree on it found the same graph.
func graphPrint(r *ModelResult) string {
	h := fnv.New64a()
	for _, ed := range r.edges {
		fmt.Fprintf(h, "%d>%d,", ed[0], ed[1])
	}
	for _, n := range r.nodes {
		fmt.Fprintf(h, "%d/%d/%s/%d;", n.parent, n.depth, n.mv, n.state)
	}
	ce := "none"
	if r.Counterexample != nil {
		ce = strings.Join(r.Counterexample.Moves, " ") + " => " + r.Counterexample.Violations[0].Invariant.ID
	}
	return fmt.Sprintf("%d states, %d transitions, depth %d, reached %v, fired %v, persist %v, graph %x, counterexample %s",
		r.States, r.Transitions, r.Depth, r.StatesReached, r.TriggersFired, r.PersistReachable, h.Sum64(), ce)
}

// Going on from machines that other paths brought to a state (donateSeen)
// finds exactly the graph, coverage and counterexample that going on only
// from each state's own path finds: on the correct machine and on every
// seeded bug. (The correct machine with one Start and one Stop; -deep
// adds K = 1 and 2 at full bounds.)
func TestDonatedMachinesAgree(t *testing.T) {
	cfgs := []ModelConfig{{Writers: 1, Starts: 1, Stops: 1}}
	if *deep {
		cfgs = append(cfgs, ModelConfig{Writers: 1}, ModelConfig{Writers: 2})
	}
	for _, m := range hooks.All {
		cfgs = append(cfgs, ModelConfig{Writers: 1, mutants: m})
	}
	if gateSteps(t) {
		for _, m := range hooks.GateInternal {
			k := 1
			if m == hooks.DrainStaleList {
				k = 2 // as TestModelCheckerKillsGateInternalMutants
			}
			cfgs = append(cfgs, ModelConfig{Writers: k, Starts: 1, Stops: 1, mutants: m})
		}
	}
	for _, cfg := range cfgs {
		t.Run(cfg.mutants.String(), func(t *testing.T) {
			own := cfg
			own.noDonate = true
			var prints []string
			var replays []int
			for _, c := range []ModelConfig{own, cfg} {
				r := correctModel(t, c) // cfg's run is memoized: the other tests make it too
				prints, replays = append(prints, graphPrint(r)), append(replays, r.Replays)
			}
			if prints[0] != prints[1] {
				t.Fatalf("going on from other paths' machines changed the search:\nown paths: %s\ndonated:   %s", prints[0], prints[1])
			}
			t.Logf("%s; replays %d -> %d", prints[1], replays[0], replays[1])
		})
	}
}

// Every merge (a transition to a state first reached by another path)
// joins two machines with the same future: the machine that came by the
// transition and a fresh replay of the state's own path offer the same
// moves, and after each move again have the same key and the same
// violations. Checked on every 5th merge of K = 1 with one Start and one
// Stop (every 100th under -race, every 50th with the gate's own steps) and
// on every 500th of K = 1 at full bounds; -deep checks every merge of both.
func TestMergesAreSound(t *testing.T) {
	type run struct {
		cfg  ModelConfig
		step int
	}
	runs := []run{{ModelConfig{Writers: 1, Starts: 1, Stops: 1}, 5}}
	switch {
	case *deep:
		runs = []run{{ModelConfig{Writers: 1, Starts: 1, Stops: 1}, 1}, {ModelConfig{Writers: 1}, 1}}
	case raceEnabled:
		runs[0].step = 100
	case gateSteps(t):
		runs[0].step = 50
	default:
		runs = append(runs, run{ModelConfig{Writers: 1}, 500})
	}
	for _, r := range runs {
		res := correctModel(t, r.cfg)
		n, err := mergeCheck(r.cfg, res, r.step)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v: %d merges checked", r.cfg, n)
		if n == 0 {
			t.Fatal("no merge checked")
		}
	}
}

// mergeCheck looks at every step-th merge of a finished search and returns
// the first difference it finds between the machine that came by the
// transition and a fresh replay of the state's own path.
func mergeCheck(cfg ModelConfig, r *ModelResult, step int) (checked int, err error) {
	cfg = cfg.withDefaults()
	e := &explorer{cfg: cfg, res: r}
	run := func(path []move) (*sim, error) { return replay(cfg, path, nil, true) }
	after := func(path []move, mv move) (string, error) {
		s, err := run(append(path[:len(path):len(path)], mv))
		if err != nil {
			return "", err
		}
		defer s.close()
		return fmt.Sprintf("key %x, %d violation(s)", s.key(nil), len(s.violations)), nil
	}
	// The edges are listed node by node, in the order of the node's moves.
	k, n := 0, 0
	for from := range r.nodes {
		s, err := run(e.path(int32(from)))
		if err != nil {
			return checked, err
		}
		moves := s.enabled(true)
		s.close()
		for _, mv := range moves {
			to := r.edges[k][1]
			k++
			if r.nodes[to].parent == int32(from) && r.nodes[to].mv == mv {
				continue // the state's own path
			}
			if n++; n%step != 0 {
				continue
			}
			checked++
			came := append(e.path(int32(from)), mv)
			own := e.path(to)
			a, err := run(came)
			if err != nil {
				return checked, err
			}
			b, err := run(own)
			if err != nil {
				a.close()
				return checked, err
			}
			ka, kb := a.key(nil), b.key(nil)
			ma, mb := fmt.Sprint(a.enabled(true)), fmt.Sprint(b.enabled(true))
			next := b.enabled(true)
			a.close()
			b.close()
			if string(ka) != string(kb) || ma != mb {
				return checked, fmt.Errorf("%v and %v: keys %x, %x; moves %s, %s", came, own, ka, kb, ma, mb)
			}
			for _, m := range next {
				oa, err := after(came, m)
				if err != nil {
					return checked, err
				}
				ob, err := after(own, m)
				if err != nil {
					return checked, err
				}
				if oa != ob {
					return checked, fmt.Errorf("the same key after %v and after %v, but then %s leads to\n%s\n%s", came, own, m, oa, ob)
				}
			}
		}
	}
	if k != len(r.edges) {
		return checked, fmt.Errorf("the replays offer %d moves, the search took %d", k, len(r.edges))
	}
	return checked, nil
}
