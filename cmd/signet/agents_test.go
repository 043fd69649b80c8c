package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientsAgentFlags: clients add|update take --agent-registry
// (repeatable; update replaces the list) and --agent-offline.
func TestClientsAgentFlags(t *testing.T) {
	env := map[string]string{"SIGNET_DATABASE": "sqlite:" + filepath.Join(t.TempDir(), "signet.db")}
	const sepolia, mainnet = "eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e", "eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432"
	out, err := run(t, env, "clients", "add", "--create", "--json", "--name", "Agents", "--profile", "siwa", "--redirect-uri", "https://agents.example/cb",
		"--agent-registry", strings.ToLower(sepolia), "--agent-registry", mainnet, "--agent-offline")
	var added clientJSON
	if err != nil || json.Unmarshal([]byte(out), &added) != nil {
		t.Fatalf("add: %q %v", out, err)
	}
	if strings.Join(added.AgentRegistries, " ") != sepolia+" "+mainnet || !added.AgentOffline || added.Profile != "siwa" || added.AccessTokenTTL != "1h0m0s" {
		t.Fatalf("add = %+v", added)
	}
	out, err = run(t, env, "clients", "update", added.ClientID, "--json", "--agent-registry", mainnet, "--agent-offline=false")
	var updated clientJSON
	if err != nil || json.Unmarshal([]byte(out), &updated) != nil || strings.Join(updated.AgentRegistries, " ") != mainnet || updated.AgentOffline {
		t.Fatalf("update: %q %v", out, err)
	}
	if out, err := run(t, env, "clients", "show", added.ClientID); err != nil || !strings.Contains(out, "agent_registries:") || !strings.Contains(out, mainnet) {
		t.Fatalf("show: %q %v", out, err)
	}
	if _, err := run(t, env, "clients", "update", added.ClientID, "--agent-registry", "0x8004A169FB4a3325136EB29fA0ceB6D2e539a432"); err == nil {
		t.Fatal("a registry without eip155:<chain>: was accepted")
	}
}

// TestAgentFilesSwitch: agents.allow_private_files in the file, overridden
// by SIGNET_AGENTS_ALLOW_PRIVATE_FILES; a value that is not a boolean is a
// problem.
func TestAgentFilesSwitch(t *testing.T) {
	file := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(file, []byte("agents:\n  allow_private_files: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for env, want := range map[string]bool{"": true, "false": false, "1": true} {
		m := &Main{Getenv: func(k string) string {
			if k == "SIGNET_AGENTS_ALLOW_PRIVATE_FILES" {
				return env
			}
			return ""
		}}
		cfg, problems := m.loadConfig(&commonFlags{config: file})
		if len(problems) > 0 || cfg.Agents.AllowPrivateFiles != want {
			t.Errorf("env %q: allow_private_files %v, problems %v; want %v", env, cfg.Agents.AllowPrivateFiles, problems, want)
		}
	}
	m := &Main{Getenv: func(k string) string { return map[string]string{"SIGNET_AGENTS_ALLOW_PRIVATE_FILES": "maybe"}[k] }}
	if _, problems := m.loadConfig(&commonFlags{}); len(problems) != 1 || !strings.Contains(problems[0], "SIGNET_AGENTS_ALLOW_PRIVATE_FILES") {
		t.Fatalf("problems = %v", problems)
	}
}
