package main

import (
	gobuild "go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// module is this module's import path.
const module = "github.com/switchboard/switchboard/"

// TestArchitectureImports holds docs/architecture.md's graph of the
// packages to the code: each line names a package (or several with the
// same imports) and every package of ours it imports, "leaves" those that
// import none; every package of the module but the test helpers has a
// line.
func TestArchitectureImports(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Packages, and where a rule lives")
	if !ok {
		t.Fatal(`docs/architecture.md has no "Packages, and where a rule lives"`)
	}
	_, graph, _ := strings.Cut(section, "```\n")
	graph, _, _ = strings.Cut(graph, "```")
	comment := regexp.MustCompile(`\(.*\)`)
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(graph), "\n") {
		left, right, ok := strings.Cut(comment.ReplaceAllString(line, ""), "──▶")
		if !ok {
			t.Errorf("line %q has no ──▶", line)
			continue
		}
		want := split(right)
		if strings.TrimSpace(left) == "leaves" {
			for _, p := range want {
				listed[p] = true
				if got := imports(t, p); len(got) > 0 {
					t.Errorf("%s is listed as a leaf but imports %v", p, got)
				}
			}
			continue
		}
		for _, p := range split(left) {
			listed[p] = true
			if got := imports(t, p); !slices.Equal(got, want) {
				t.Errorf("%s imports %v; docs/architecture.md says %v", p, got, want)
			}
		}
	}
	root := filepath.Join("..", "..")
	walked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() || path == root {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if name := d.Name(); strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" {
			return filepath.SkipDir
		}
		walked++
		pkg, err := gobuild.ImportDir(path, 0)
		if err != nil || pkg.Name == "" || len(pkg.GoFiles) == 0 {
			return nil // no package, or tests only
		}
		helper := strings.HasSuffix(rel, "test") || strings.HasPrefix(rel, "scripts/") || rel == "channels"
		if !helper && !listed[rel] {
			t.Errorf("package %s has no line in docs/architecture.md's graph", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if walked < len(listed) {
		t.Errorf("walked %d directories, fewer than the %d packages listed", walked, len(listed))
	}
}

// split reads a comma-separated list of packages.
func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// imports returns the packages of ours that package p (a path in the
// module) imports, its tests aside, sorted.
func imports(t *testing.T, p string) []string {
	t.Helper()
	pkg, err := gobuild.ImportDir(filepath.Join("..", "..", filepath.FromSlash(p)), 0)
	if err != nil {
		t.Errorf("package %s: %v", p, err)
		return nil
	}
	var out []string
	for _, imp := range pkg.Imports {
		if rest, ok := strings.CutPrefix(imp, module); ok {
			out = append(out, rest)
		}
	}
	slices.Sort(out)
	return out
}
