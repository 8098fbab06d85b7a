package recgate_test

import (
	"fmt"
	"go/build"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
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
		"graph/callback":   {"graph"},
		"otelrecgate":      {"fsm", "graph", "graph/callback"},
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

// The public API is only what a user can call: no exported name of a
// public package takes or returns (or exposes in an exported field) a type
// from an internal package, which no other module could build.
func TestNoExportedNameUsesAnInternalType(t *testing.T) {
	const mod = "github.com/recgate/recgate/"
	pkgs := []string{"graph", "graph/graphtest", "graph/callback", "graph/azuretoken", "fsm", "properties"}
	// The compiler's export data (go list -export) is the packages' API as
	// type-checked by the compiler, and much quicker to read than source.
	args := []string{"list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}"}
	for _, p := range pkgs {
		args = append(args, mod+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list -export: %v", err)
	}
	export := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if path, file, ok := strings.Cut(line, "\t"); ok {
			export[path] = file
		}
	}
	fset := token.NewFileSet()
	imp := importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		file, ok := export[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	})
	for _, pkg := range pkgs {
		p, err := imp.Import(mod + pkg)
		if err != nil {
			t.Fatalf("type-checking %s: %v", pkg, err)
		}
		scope := p.Scope()
		for _, name := range scope.Names() {
			obj := scope.Lookup(name)
			if !obj.Exported() {
				continue
			}
			where := pkg + "." + name
			if bad := internalIn(obj.Type(), map[types.Type]bool{}); bad != "" {
				t.Errorf("%s exposes %s, a type from an internal package", where, bad)
			}
			if tn, ok := obj.(*types.TypeName); ok {
				if named, ok := tn.Type().(*types.Named); ok {
					for i := 0; i < named.NumMethods(); i++ {
						m := named.Method(i)
						if !m.Exported() {
							continue
						}
						if bad := internalIn(m.Type(), map[types.Type]bool{}); bad != "" {
							t.Errorf("%s.%s exposes %s, a type from an internal package", where, m.Name(), bad)
						}
					}
				}
			}
		}
	}
}

// internalIn names the first internal type reachable through t's exported
// surface (signatures, exported fields, element types), or "".
func internalIn(t types.Type, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch x := t.(type) {
	case *types.Named:
		if p := x.Obj().Pkg(); p != nil && strings.Contains(p.Path(), "/internal/") {
			return p.Path() + "." + x.Obj().Name()
		}
		if p := x.Obj().Pkg(); p == nil || !strings.HasPrefix(p.Path(), "github.com/recgate/recgate") {
			return "" // other modules' types are theirs to keep tidy
		}
		return internalIn(x.Underlying(), seen)
	case *types.Pointer:
		return internalIn(x.Elem(), seen)
	case *types.Slice:
		return internalIn(x.Elem(), seen)
	case *types.Array:
		return internalIn(x.Elem(), seen)
	case *types.Map:
		if s := internalIn(x.Key(), seen); s != "" {
			return s
		}
		return internalIn(x.Elem(), seen)
	case *types.Chan:
		return internalIn(x.Elem(), seen)
	case *types.Signature:
		for _, tup := range []*types.Tuple{x.Params(), x.Results()} {
			for i := 0; i < tup.Len(); i++ {
				if s := internalIn(tup.At(i).Type(), seen); s != "" {
					return s
				}
			}
		}
	case *types.Struct:
		for i := 0; i < x.NumFields(); i++ {
			if f := x.Field(i); f.Exported() {
				if s := internalIn(f.Type(), seen); s != "" {
					return s
				}
			}
		}
	case *types.Interface:
		for i := 0; i < x.NumMethods(); i++ {
			if s := internalIn(x.Method(i).Type(), seen); s != "" {
				return s
			}
		}
	}
	return ""
}
