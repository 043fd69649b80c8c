package newcomer

import (
	"os"
	"strings"
	"testing"
)

// TestEveryREADMEBlockIsRun: each code block of the README is run by
// TestNewcomerPath (or, the yaml example, by cmd/signet's config tests),
// or says why not.
func TestEveryREADMEBlockIsRun(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{"server": true, "go-webapp": true, "go-service": true, "service-calls": true, "node-webapp": true, "node-script": true}
	for _, b := range Blocks(string(readme)) {
		switch {
		case b.Kind == "skip" && b.Arg == "":
			t.Errorf("README line %d: a skipped block must say why", b.Line)
		case b.Kind == "skip", known[b.Kind]:
		case b.Kind != "":
			t.Errorf("README line %d: unknown readme-test kind %q", b.Line, b.Kind)
		case b.Lang != "sh" && b.Lang != "yaml":
			t.Errorf("README line %d: a %q block that nothing runs; mark it <!-- readme-test: KIND -->", b.Line, b.Lang)
		}
	}
}

func TestBlocks(t *testing.T) {
	md := "text\n<!-- readme-test: skip (a reason) -->\n```sh\necho a\n```\n\n  ```go\n  package main\n  ```\n"
	got := Blocks(md)
	if len(got) != 2 {
		t.Fatalf("blocks = %+v", got)
	}
	if got[0].Kind != "skip" || got[0].Arg != "a reason" || got[0].Code != "echo a\n" || got[0].Line != 3 {
		t.Fatalf("first block = %+v", got[0])
	}
	if got[1].Lang != "go" || got[1].Kind != "" || got[1].Code != "package main\n" {
		t.Fatalf("indented block = %+v", got[1])
	}
}

// TestREADMEStaysShort: the README is what a newcomer needs; references
// and measurements belong in docs/.
func TestREADMEStaysShort(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n > 480 {
		t.Errorf("README.md has %d lines; move reference material to docs/ (limit 480)", n)
	}
}
