package recgate_test

import (
	"go/build"
	"strings"
	"testing"
)

// Imports flow one way (DESIGN.md): examples -> properties -> fsm -> graph,
// graph/graphtest -> graph, graph/azuretoken -> graph; nothing imports
// examples, and graph knows nothing of fsm.
func TestImportsFlowOneWay(t *testing.T) {
	const mod = "github.com/recgate/recgate/"
	allowed := map[string][]string{
		"graph":            {},
		"graph/graphtest":  {"graph"},
		"graph/azuretoken": {"graph"},
		"internal/hooks":   {},
		"fsm":              {"graph", "internal/hooks"},
		"properties":       {"fsm", "graph", "internal/hooks"},
	}
	for pkg, ok := range allowed {
		p, err := build.Import(mod+pkg, ".", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			rest, inModule := strings.CutPrefix(imp, mod)
			if !inModule {
				continue
			}
			if !contains(ok, rest) {
				t.Errorf("%s imports %s, against the one-way flow", pkg, rest)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
