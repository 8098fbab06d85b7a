package recgate_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/recgate/recgate/fsm"
)

// README's usage example is ExampleMachine's body, and README's test
// command is the one .ci/run runs: these tests keep them so.

func TestReadmeExampleMatchesExampleTest(t *testing.T) {
	readme := mustRead(t, "README.md")
	example := mustRead(t, "fsm/example_test.go")
	block := between(t, readme, "<!-- example:start -->\n```go\n", "```\n<!-- example:end -->")
	body := between(t, example, "\t// README:start\n", "\t// README:end\n")
	if dedent(body) != block {
		t.Errorf("README's example differs from ExampleMachine in fsm/example_test.go; copy the example between the README markers.\nREADME:\n%s\nexample:\n%s", block, dedent(body))
	}
}

func TestReadmeTestCommandIsWhatCIRuns(t *testing.T) {
	readme := mustRead(t, "README.md")
	ci := mustRead(t, ".ci/run")
	m := regexp.MustCompile("\\*\\*Run the tests:\\*\\* `([^`]+)`").FindStringSubmatch(readme)
	if m == nil {
		t.Fatal("README has no '**Run the tests:** `command`' line")
	}
	found := false
	for _, line := range strings.Split(ci, "\n") {
		if strings.TrimSpace(line) == m[1] {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run does not run README's test command %q on a line of its own", m[1])
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func between(t *testing.T, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	if i < 0 {
		t.Fatalf("marker %q not found", start)
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		t.Fatalf("marker %q not found", end)
	}
	return s[:j]
}

func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	return strings.Join(lines, "\n")
}

func TestReadmeDiagramIsTheMachine(t *testing.T) {
	readme := mustRead(t, "README.md")
	block := between(t, readme, "```mermaid\n", "```\n")
	if block != fsm.Mermaid() {
		t.Errorf("README's Mermaid diagram is not fsm.Mermaid(); paste the output of fsm.Mermaid() into README.md.\nwant:\n%s", fsm.Mermaid())
	}
}
