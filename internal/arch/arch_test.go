package arch

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/signet-id/signet"

// testSupport may be imported by any package's tests.
var testSupport = []string{"internal/chaintest", "internal/clocktest", "internal/storagetest", "internal/floor", "internal/browsertest", "internal/stellartest"}

// allowed lists, for each package, the project packages its production code
// may import (docs/architecture.md draws the same graph). A package not
// listed here fails the test: a new package says where it sits.
var allowed = map[string][]string{
	// Domain packages: rules and the small interfaces they need.
	"web":          {},
	"siwe":         {"siwe/stellar", "internal/random"},
	"siwe/stellar": {},
	"clients":      {"siwe", "internal/random"},
	"storage":      {"siwe", "siwe/stellar", "clients"},

	// Plumbing shared by the surfaces.
	"internal/random":  {},
	"internal/metrics": {},
	"internal/binding": {},
	"internal/httpapi": {"siwe", "web", "internal/metrics", "internal/random"},
	"internal/chain":   {"siwe"},
	"internal/agents":  {"siwe", "clients", "internal/chain"},
	"internal/keyring": {"storage", "clients"},
	"internal/bearer":  {},

	// The sign-in core and the surfaces over it.
	"internal/signin":    {"siwe", "siwe/stellar", "clients", "storage", "internal/agents", "internal/httpapi", "internal/metrics", "internal/random"},
	"internal/authorize": {"clients", "storage", "internal/binding", "internal/httpapi", "internal/signin"},
	"internal/login":     {"siwe", "clients", "storage", "web", "internal/binding", "internal/httpapi", "internal/signin"},
	"internal/headless":  {"siwe", "clients", "internal/httpapi", "internal/signin"},
	"internal/demo":      {"web", "internal/httpapi", "internal/random"},
	"internal/compat":    {"clients", "internal/httpapi", "internal/signin"},
	// API keys: their rules and the wallet's endpoints.
	"internal/claims":   {"siwe", "clients", "storage"},
	"internal/sessions": {"storage", "internal/binding", "internal/httpapi", "internal/metrics"},
	"internal/apikeys":  {"siwe", "clients", "storage", "internal/bearer", "internal/claims", "internal/httpapi"},

	// Wire profiles: one package each, over signin.Core.
	"internal/profiles/siwa": {"siwe", "clients", "internal/bearer", "internal/compat", "internal/httpapi", "internal/signin"},
	// Profiles whose message is the core's own challenge, as it is.
	"internal/profiles/defimara": {"siwe", "internal/compat", "internal/httpapi", "internal/signin"},
	"internal/profiles/reppo":    {"siwe", "internal/compat", "internal/httpapi", "internal/signin"},
	// A profile whose verify names the wallet, not the nonce, and whose
	// tokens manage API keys in its own shapes.
	"internal/profiles/dob": {"siwe", "internal/apikeys", "internal/compat", "internal/httpapi", "internal/signin"},

	// The OpenID provider wires the surfaces; only cmd wires the provider.
	"op": {"siwe", "clients", "storage", "web", "internal/agents", "internal/apikeys", "internal/authorize", "internal/bearer", "internal/binding", "internal/compat", "internal/demo", "internal/headless", "internal/profiles/siwa", "internal/sessions", "internal/claims",
		"internal/profiles/defimara", "internal/profiles/reppo", "internal/profiles/dob",
		"internal/httpapi", "internal/keyring", "internal/login", "internal/metrics", "internal/random", "internal/signin"},
	"cmd/signet": {"*"},

	// The library resource servers import: nothing of ours.
	"resource": {},

	// Test support and tools.
	"internal/chaintest":   {},
	"internal/clocktest":   {},
	"internal/storagetest": {},
	"internal/stellartest": {},
	"internal/browsertest": {"internal/storagetest"},
	"internal/floor":       {"siwe"},
	"internal/mutants":     {},
	"internal/newcomer":    {},
	"internal/arch":        {},
}

type goPackage struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func listPackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p goPackage
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// ours returns the project packages among imports, relative to the module.
func ours(imports []string) []string {
	var out []string
	for _, imp := range imports {
		if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
			out = append(out, rel)
		}
	}
	return out
}

func TestImportDirections(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		allow, known := allowed[rel]
		if !known {
			t.Errorf("package %s is not in the import table: add it, and to docs/architecture.md", rel)
			continue
		}
		if slices.Contains(allow, "*") {
			continue
		}
		for _, imp := range ours(p.Imports) {
			if !slices.Contains(allow, imp) {
				t.Errorf("%s imports %s, which docs/architecture.md does not allow", rel, imp)
			}
		}
		self := rel
		for _, imp := range ours(append(slices.Clone(p.TestImports), p.XTestImports...)) {
			if imp != self && !slices.Contains(allow, imp) && !slices.Contains(testSupport, imp) && !testMayImport(rel, imp) {
				t.Errorf("%s's tests import %s, which docs/architecture.md does not allow", rel, imp)
			}
		}
	}
}

// testMayImport allows the end-to-end tests of a package to reach past it:
// op's tests run the whole server and check what its parts store;
// resource's tests start a real Signet to get tokens from.
func testMayImport(pkg, imp string) bool {
	switch pkg {
	case "op", "cmd/signet", "internal/signin", "internal/keyring", "internal/newcomer", "resource":
		return !strings.HasPrefix(imp, "cmd/")
	}
	return false
}

// TestSizes: a newcomer reads any production file in one sitting.
func TestSizes(t *testing.T) {
	const maxFileLines, maxFuncLines = 400, 60
	for _, p := range listPackages(t) {
		for _, name := range p.GoFiles {
			path := filepath.Join(p.Dir, name)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(mustAbs(t, "../.."), path)
			if n := fset.File(f.Pos()).LineCount(); n > maxFileLines {
				t.Errorf("%s has %d lines; the limit is %d", rel, n, maxFileLines)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				if n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1; n > maxFuncLines {
					t.Errorf("%s: %s has %d lines; the limit is %d", rel, fd.Name.Name, n, maxFuncLines)
				}
			}
		}
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
