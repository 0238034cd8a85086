package sshserver

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryEventReadIsFiltered is the structural half of the privacy
// rule: every function of the package that takes events from the hub (a
// stream, a backlog, the history) must pass them through hub.Visible,
// directly or by visibleTo. A new read path that does not fails here,
// before any test of its output is written.
func TestEveryEventReadIsFiltered(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	reads := map[string]bool{"History": true, "Events": true} // of hub.Hub and hub.Subscription
	fset := token.NewFileSet()
	found := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var readAt []token.Pos
			filtered := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && reads[sel.Sel.Name] && len(n.Args) == 0 {
						readAt = append(readAt, n.Pos())
					}
				case *ast.Ident:
					if n.Name == "Visible" || n.Name == "visibleTo" {
						filtered = true
					}
				}
				return true
			})
			found += len(readAt)
			if len(readAt) > 0 && !filtered && fn.Name.Name != "visibleTo" {
				for _, pos := range readAt {
					t.Errorf("%s: %s reads events without hub.Visible", fset.Position(pos), fn.Name.Name)
				}
			}
		}
	}
	if found < 4 { // handle's backlog, pump's stream, history, tail
		t.Errorf("found %d reads of events, want at least 4: is the guard still looking?", found)
	}
}
