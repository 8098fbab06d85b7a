package fsm

import (
	"fmt"
	"reflect"
	"runtime"
	"sort"
	"strings"
)

// DOT returns the machine as a Graphviz digraph, from stateless's ToGraph,
// with its lines put in a stable order so the output can be compared with a
// golden file. Edges read like "Start [graphConfirmedRecording]". It sends
// nothing.
func (m *Machine) DOT() string {
	return stableDOT(m.sm.ToGraph())
}

// stableDOT sorts the node and edge lines of a DOT graph: stateless walks
// maps, so its line order may change between runs.
func stableDOT(dot string) string {
	lines := strings.Split(strings.TrimRight(dot, "\n"), "\n")
	var head, body, tail []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "digraph"), strings.HasPrefix(t, "compound"), strings.HasPrefix(t, "node "), strings.HasPrefix(t, "rankdir"), t == "":
			if len(body) == 0 {
				head = append(head, l)
			}
		case strings.HasPrefix(t, "init"), t == "}":
			tail = append(tail, l)
		default:
			body = append(body, l)
		}
	}
	sort.Strings(body)
	out := append(append(head, body...), tail...)
	return strings.Join(out, "\n") + "\n"
}

// Mermaid returns the machine as a Mermaid stateDiagram-v2, which GitHub
// renders inside a ```mermaid block. It is drawn from the same specification
// that configures the machine.
func Mermaid() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	b.WriteString("    [*] --> NotRecording\n")
	for _, t := range specification {
		if t.Ignore && t.From == t.To && t.Guard == nil {
			continue
		}
		fmt.Fprintf(&b, "    %s --> %s: %s\n", t.From, t.To, edgeLabel(t))
	}
	b.WriteString("    Ended --> [*]\n")
	b.WriteString("    note right of Recording\n        the only state in which the persist gate opens\n    end note\n")
	return b.String()
}

// TransitionTable returns the specification as a Markdown table: from,
// trigger, guard, to, and the Graph request the guard waits for.
func TransitionTable() string {
	var b strings.Builder
	b.WriteString("| from | trigger | guard | to | Graph request | persist allowed after |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, t := range specification {
		guard, sends, to := "", "", t.To.String()
		if t.Guard != nil {
			guard = "`" + guardName(t) + "`"
		}
		if t.Sends != "" {
			sends = "`" + t.Sends + "`"
		}
		if t.Ignore {
			to += " (ignored)"
		}
		allowed := "no"
		if t.To.PersistAllowed() {
			allowed = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", t.From, t.Trigger, guard, to, sends, allowed)
	}
	return b.String()
}

func edgeLabel(t transition) string {
	label := t.Trigger.String()
	if t.Guard != nil {
		label += " [" + guardName(t) + "]"
	}
	if t.Ignore {
		label += " (ignored)"
	}
	return label
}

// guardName is the guard function's own name, as stateless prints it.
func guardName(t transition) string {
	if t.Guard == nil {
		return ""
	}
	full := runtime.FuncForPC(reflect.ValueOf(t.Guard).Pointer()).Name()
	return full[strings.LastIndex(full, ".")+1:]
}
