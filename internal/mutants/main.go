// Command mutants checks that Signet's security rules are held by tests: it
// removes each rule listed in rules.go from a scratch copy of the committed
// tree, runs the test named for it, and reports any test that still passes.
//
//	go run ./internal/mutants            # every rule
//	go run ./internal/mutants -only binding
//
// It exits 1 when a test survives its rule's removal, or when a rule's code
// is no longer found (the table must follow the code).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	only := flag.String("only", "", "check only the rules whose name contains this")
	flag.Parse()
	if err := run(*only); err != nil {
		fmt.Fprintln(os.Stderr, "mutants:", err)
		os.Exit(1)
	}
}

func run(only string) error {
	root, err := gitOutput("", "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	scratch, err := os.MkdirTemp("", "signet-mutants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	tree := filepath.Join(scratch, "tree")
	if _, err := gitOutput(root, "worktree", "add", "--detach", tree, "HEAD"); err != nil {
		return err
	}
	defer gitOutput(root, "worktree", "remove", "--force", tree) //nolint:errcheck // best effort

	var failed []string
	for _, r := range rules {
		if only != "" && !strings.Contains(r.Name, only) {
			continue
		}
		verdict, err := check(tree, r)
		if err != nil {
			verdict = "ERROR: " + err.Error()
		}
		fmt.Printf("%-60s %s\n", r.Name, verdict)
		if verdict != "killed" {
			failed = append(failed, r.Name)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d rule(s) not held by their test: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// check removes r's code, runs r's test, and puts the code back.
func check(tree string, r rule) (string, error) {
	path := filepath.Join(tree, r.File)
	orig, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	if n := strings.Count(string(orig), r.Old); n != 1 {
		return "", fmt.Errorf("%s: the rule's code is found %d times, want once", r.File, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(orig), r.Old, r.New, 1)), 0o644); err != nil {
		return "", err
	}
	defer os.WriteFile(path, orig, 0o644) //nolint:errcheck // restored before the next rule
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-run", r.Test, "./"+r.Package+"/")
	cmd.Dir = tree
	out, err := cmd.CombinedOutput()
	switch {
	case strings.Contains(string(out), "no tests to run"):
		return "", fmt.Errorf("no test matches %q", r.Test)
	case err == nil:
		return "SURVIVED: " + r.Test + " passes without the rule", nil
	case strings.Contains(string(out), "[build failed]") || strings.Contains(string(out), "[setup failed]"):
		return "", fmt.Errorf("the mutant does not build:\n%s", out)
	}
	return "killed", nil
}

func gitOutput(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}
