package properties

import (
	"fmt"
	"slices"
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
	s, err := newSim(cfg, nil)
	if err != nil {
		return nil, err
	}
	defer s.close()
	for i, text := range moves {
		mv, err := parseMove(text)
		if err != nil {
			return s.violations, fmt.Errorf("properties: move %d: %w", i+1, err)
		}
		if possible := s.enabled(false); !slices.Contains(possible, mv) {
			return s.violations, fmt.Errorf("properties: move %d (%s) is not possible there; possible: %v", i+1, mv, possible)
		}
		if err := s.apply(mv); err != nil {
			return s.violations, err
		}
	}
	return s.violations, nil
}

// moveKind is what a move does.
type moveKind uint8

const (
	mvEvent        moveKind = iota // a bot event (who: eventID)
	mvStep                         // a paused thread goes on (who: thread)
	mvReply                        // Graph replies to a thread's request (who: thread, arg: Outcome)
	mvAcquire                      // writer who takes a lease
	mvWrite                        // writer who persists under its lease
	mvRelease                      // writer who releases its lease
	mvReleaseAgain                 // writer who releases its previous lease once more
	mvOpen                         // writer who registers its stream
	mvIntrospect                   // CanFire, PermittedTriggers and DOT
)

var writerMoveNames = map[moveKind]string{mvAcquire: "acquire", mvWrite: "write", mvRelease: "release", mvReleaseAgain: "release-again", mvOpen: "open"}

// move is one step of the product: a bot event, a step of a paused thread,
// a Graph reply, a writer's lease operation, or introspection. It prints
// (and parses) as "ev:start", "step:control", "reply:control:completed",
// "w0:acquire", "introspect".
type move struct {
	kind     moveKind
	who, arg uint8
}

func (m move) String() string {
	switch m.kind {
	case mvEvent:
		if int(m.who) < len(eventLabels) {
			return "ev:" + eventLabels[m.who]
		}
	case mvStep:
		return "step:" + threadName(int(m.who))
	case mvReply:
		return "reply:" + threadName(int(m.who)) + ":" + Outcome(m.arg).String()
	case mvIntrospect:
		return "introspect"
	default:
		if n, ok := writerMoveNames[m.kind]; ok {
			return fmt.Sprintf("w%d:%s", m.who, n)
		}
	}
	return fmt.Sprintf("move(%d,%d,%d)", m.kind, m.who, m.arg)
}

func threadName(t int) string {
	if t < len(machineThreadNames) {
		return machineThreadNames[t]
	}
	return fmt.Sprintf("w%d", t-threadWriter0)
}

func parseThread(name string) (int, bool) {
	if i := slices.Index(machineThreadNames, name); i >= 0 {
		return i, true
	}
	var w int
	if _, err := fmt.Sscanf(name, "w%d", &w); err == nil && w >= 0 && w < 6 {
		return threadWriter0 + w, true
	}
	return 0, false
}

// parseMove reads a move as String prints it.
func parseMove(text string) (move, error) {
	bad := fmt.Errorf("bad move %q: want ev:EVENT, step:THREAD, reply:THREAD:OUTCOME, wN:acquire|write|release|release-again|open or introspect", text)
	head, rest, _ := strings.Cut(text, ":")
	switch {
	case text == "introspect":
		return move{kind: mvIntrospect}, nil
	case head == "ev":
		for i, l := range eventLabels {
			if l != "" && l == rest && eventID(i) != evAcquire {
				return move{kind: mvEvent, who: uint8(i)}, nil
			}
		}
	case head == "step":
		if t, ok := parseThread(rest); ok {
			return move{kind: mvStep, who: uint8(t)}, nil
		}
	case head == "reply":
		name, out, _ := strings.Cut(rest, ":")
		t, ok := parseThread(name)
		for o := OutcomeCompleted; ok && o <= OutcomeError; o++ {
			if o.String() == out {
				return move{kind: mvReply, who: uint8(t), arg: uint8(o)}, nil
			}
		}
	default:
		var w int
		if _, err := fmt.Sscanf(head, "w%d", &w); err == nil && w >= 0 && w < 6 {
			for k, n := range writerMoveNames {
				if n == rest {
					return move{kind: k, who: uint8(w)}, nil
				}
			}
		}
	}
	return move{}, bad
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
	for id, n := range r.nodes {
		attrs := ""
		if onPath[id] {
			attrs = ", color=red, penwidth=2"
		}
		fmt.Fprintf(&b, "\tn%d [label=\"%d: %s\"%s];\n", id, id, n.state, attrs)
	}
	seen := map[[2]int]bool{}
	for _, ed := range r.edges {
		e := [2]int{int(ed[0]), int(ed[1])}
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
