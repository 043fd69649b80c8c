package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set by a release build with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used (go install
// …@v1.2.3), or "dev".
var version = ""

// buildVersion describes this binary: its version, the commit and time it
// was built from, and whether the tree had uncommitted changes.
type buildVersion struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commit_time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

func readBuildVersion() buildVersion {
	v := buildVersion{Version: version, Go: runtime.Version()}
	info, ok := debug.ReadBuildInfo()
	if v.Version == "" && ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v.Version = info.Main.Version
	}
	if v.Version == "" {
		v.Version = "dev"
	}
	if !ok {
		return v
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// version prints the version, as text or (--json) one object.
func (m *Main) version(args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return usageOf(err)
	}
	v := readBuildVersion()
	if *asJSON {
		return json.NewEncoder(m.Stdout).Encode(v)
	}
	line := "signet " + v.Version
	if v.Commit != "" {
		line += fmt.Sprintf(" (commit %.12s", v.Commit)
		if v.Modified {
			line += ", modified"
		}
		line += ")"
	}
	fmt.Fprintln(m.Stdout, line, v.Go)
	return nil
}

// usageOf turns a flag parsing error into a usage error (help stays help).
func usageOf(err error) error {
	if err == nil || err == flag.ErrHelp {
		return err
	}
	return &usageError{err.Error()}
}
