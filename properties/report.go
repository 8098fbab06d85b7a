package properties

import (
	"fmt"
	"sort"
	"strings"

	"github.com/recgate/recgate/fsm"
)

// Replay applies moves (a counterexample's) to a fresh machine and returns
// the violations they cause. A move that is not possible at its point is an
// error.
func Replay(cfg ModelConfig, moves []string) ([]Violation, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s, err := newSim(cfg)
	if err != nil {
		return nil, err
	}
	defer s.close()
	for i, mv := range moves {
		if !containsMove(s.enabled(), move(mv)) {
			return s.violations, fmt.Errorf("properties: move %d (%s) is not possible there; possible: %v", i+1, mv, s.enabled())
		}
		if err := s.apply(move(mv)); err != nil {
			return s.violations, err
		}
	}
	return s.violations, nil
}

func containsMove(ms []move, m move) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// GoTest turns the counterexample into a Go test that replays it.
func (c *Counterexample) GoTest(name string, cfg ModelConfig) string {
	var b strings.Builder
	fmt.Fprintf(&b, "func %s(t *testing.T) {\n", name)
	b.WriteString("\tmoves := []string{")
	for i, mv := range c.Moves {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", mv)
	}
	b.WriteString("}\n")
	mut := ""
	if cfg.mutants != 0 {
		mut = ", mutants: hooks." + cfg.mutants.String()
	}
	fmt.Fprintf(&b, "\tvs, err := Replay(ModelConfig{Writers: %d%s}, moves)\n", cfg.Writers, mut)
	b.WriteString("\tif err != nil {\n\t\tt.Fatal(err)\n\t}\n")
	if len(c.Violations) > 0 {
		fmt.Fprintf(&b, "\tif len(vs) == 0 || vs[0].Invariant.ID != %q {\n\t\tt.Fatalf(\"want a %s violation, got %%v\", vs)\n\t}\n", c.Violations[0].Invariant.ID, c.Violations[0].Invariant.ID)
	}
	b.WriteString("}\n")
	return b.String()
}

// CoverageTable prints how often each machine state was reached and each
// event began, as Markdown.
func (r *ModelResult) CoverageTable() string {
	var b strings.Builder
	b.WriteString("| state | reached |\n|---|---|\n")
	for _, s := range fsm.States() {
		fmt.Fprintf(&b, "| %s | %d |\n", s, r.StatesReached[s])
	}
	b.WriteString("\n| event | began in |\n|---|---|\n")
	evs := make([]string, 0, len(r.TriggersFired))
	for e := range r.TriggersFired {
		evs = append(evs, e)
	}
	sort.Strings(evs)
	for _, e := range evs {
		fmt.Fprintf(&b, "| %s | %d states |\n", e, r.TriggersFired[e])
	}
	fmt.Fprintf(&b, "\npersist reachable: %v; states that cannot reach NotRecording or Ended: %d\n", r.PersistReachable, len(r.Stuck))
	return b.String()
}

// DOT writes the reachable product graph, its nodes labelled with the
// machine state, the counterexample's path (if any) in red.
func (r *ModelResult) DOT() string {
	onPath := map[int]bool{}
	pathEdge := map[[2]int]bool{}
	if r.Counterexample != nil {
		for i, id := range r.Counterexample.states {
			onPath[id] = true
			if i > 0 {
				pathEdge[[2]int{r.Counterexample.states[i-1], id}] = true
			}
		}
	}
	var b strings.Builder
	b.WriteString("digraph product {\n\tnode [shape=box, fontsize=9];\n")
	for id, k := range r.keys {
		state, _, _ := strings.Cut(k, "|")
		attrs := ""
		if onPath[id] {
			attrs = ", color=red, penwidth=2"
		}
		fmt.Fprintf(&b, "\tn%d [label=\"%d: %s\"%s];\n", id, id, state, attrs)
	}
	seen := map[[2]int]bool{}
	for _, e := range r.edges {
		if seen[e] {
			continue
		}
		seen[e] = true
		attrs := ""
		if pathEdge[e] {
			attrs = " [color=red, penwidth=2]"
		}
		fmt.Fprintf(&b, "\tn%d -> n%d%s;\n", e[0], e[1], attrs)
	}
	b.WriteString("}\n")
	return b.String()
}
