package fsm_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/recgate/recgate/fsm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./fsm -run Diagram -update to create it")
	assert.Equal(t, string(want), got, "%s differs; if the change is intended, run go test ./fsm -run Diagram -update", path)
}

func TestDiagramDOT(t *testing.T) {
	m, _ := reach(t, fsm.NotRecording)
	dot := m.DOT()
	golden(t, "machine.dot", dot)
	// Stable across calls although stateless walks maps.
	for i := 0; i < 20; i++ {
		require.Equal(t, dot, m.DOT())
	}
	assert.Contains(t, dot, "Start [graphConfirmedRecording]")
	assert.Contains(t, dot, "Stop [graphAcceptedNotRecording]")
}

func TestDiagramMermaid(t *testing.T) {
	golden(t, "machine.mmd", fsm.Mermaid())
}

func TestDiagramTable(t *testing.T) {
	golden(t, "transitions.md", fsm.TransitionTable())
}

// The three renderings come from one specification: every edge of the
// Mermaid diagram appears in stateless's DOT, and every permitted pair the
// tests know of appears in the table.
func TestDiagramsAgree(t *testing.T) {
	m, _ := reach(t, fsm.NotRecording)
	dot := m.DOT()
	edge := regexp.MustCompile(`^\s+(\w+) --> (\w+): (.*)$`)
	n := 0
	for _, line := range strings.Split(fsm.Mermaid(), "\n") {
		g := edge.FindStringSubmatch(line)
		if g == nil {
			continue
		}
		n++
		label := strings.TrimSuffix(g[3], " (ignored)")
		assert.Regexp(t, regexp.QuoteMeta(g[1]+" -> "+g[2]+" ")+`.*`+regexp.QuoteMeta(label), dot, "Mermaid edge %q missing from DOT", line)
	}
	assert.Equal(t, 20, n)
	table := fsm.TransitionTable()
	for s, ts := range permitted {
		for _, tr := range ts {
			assert.Contains(t, table, "| "+s.String()+" | "+tr.String()+" |")
		}
	}
}
