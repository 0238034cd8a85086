// Package readguard is the structural half of the privacy rule, for the
// tests of the packages that hand events to people: every function that
// takes events from the hub (a stream, a backlog, the history) must pass
// them through hub.Visible, directly or through a function named Visible
// or visibleTo.
package readguard

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
)

// unfiltered parses the Go files (tests aside) in dir and returns the
// reads of events made without hub.Visible, one line each, and how many
// reads it found in all: a guard that finds none is not looking.
func unfiltered(dir string) (unfiltered []string, reads int, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", dir, err)
	}
	names := map[string]bool{"History": true, "Events": true} // of hub.Hub and hub.Subscription
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, 0, fmt.Errorf("parse: %w", err)
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
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && names[sel.Sel.Name] && len(n.Args) == 0 {
						readAt = append(readAt, n.Pos())
					}
				case *ast.Ident:
					if n.Name == "Visible" || n.Name == "visibleTo" {
						filtered = true
					}
				}
				return true
			})
			reads += len(readAt)
			if len(readAt) > 0 && !filtered && fn.Name.Name != "visibleTo" {
				for _, pos := range readAt {
					unfiltered = append(unfiltered, fmt.Sprintf("%s: %s reads events without hub.Visible", fset.Position(pos), fn.Name.Name))
				}
			}
		}
	}
	return unfiltered, reads, nil
}
