package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/siwe"
)

// run executes one command line against the given environment.
func run(t testing.TB, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err := m.Run(context.Background(), args)
	return out.String(), err
}

func TestClientsCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
	env := map[string]string{"SIGNET_DATABASE": db}

	// A database file that does not exist is refused, unless asked for.
	_, err := run(t, env, "clients", "list")
	if err == nil || !strings.Contains(err.Error(), "does not exist") || exitCode(err) != exitError {
		t.Fatalf("missing database: %v", err)
	}
	out, err := run(t, env, "clients", "add", "--create", "--json", "--name", "Shop", "--redirect-uri", "https://shop.example/cb", "--redirect-uri", "https://shop.example/cb2", "--scope", "openid", "--scope", "profile", "--access-token-ttl", "10m")
	if err != nil {
		t.Fatal(err)
	}
	var added map[string]any
	if err := json.Unmarshal([]byte(out), &added); err != nil {
		t.Fatalf("--json output is not one object: %q", out)
	}
	id, _ := added["client_id"].(string)
	secret, _ := added["client_secret"].(string)
	if id == "" || len(secret) < 40 || added["access_token_ttl"] != "10m0s" {
		t.Fatalf("add --json = %v", added)
	}

	out, err = run(t, env, "clients", "show", id)
	if err != nil || !strings.Contains(out, "Shop") || strings.Contains(out, secret) {
		t.Fatalf("show: %q %v", out, err)
	}
	if _, err := run(t, env, "clients", "update", id, "--name", "Shop 2", "--remove-redirect-uri", "https://shop.example/cb2"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, env, "clients", "show", "--json", id)
	if !strings.Contains(out, "Shop 2") || strings.Contains(out, "cb2") {
		t.Fatalf("after update: %s", out)
	}
	out, err = run(t, env, "clients", "rotate-secret", "--json", id)
	var rotated map[string]string
	_ = json.Unmarshal([]byte(out), &rotated)
	if err != nil || rotated["client_secret"] == "" || rotated["client_secret"] == secret {
		t.Fatalf("rotate-secret: %q %v", out, err)
	}

	// A license client: its ID is the license address in EIP-55 form.
	out, err = run(t, env, "clients", "add", "--json", "--name", "Fleet", "--license", "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae", "--chain-id", "137",
		"--signer", "0x00000000000000000000000000000000000000a1", "--redirect-uri", "https://fleet.example/cb")
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(out), &added)
	if added["client_id"] != "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe" || added["license_chain_id"] != float64(137) {
		t.Fatalf("license add = %v", added)
	}

	// A client without the headless flows, and turning them back on.
	out, err = run(t, env, "clients", "add", "--json", "--name", "Web only", "--no-headless", "--redirect-uri", "https://web.example/cb")
	_ = json.Unmarshal([]byte(out), &added)
	if err != nil || added["headless"] != false {
		t.Fatalf("add --no-headless: %q %v", out, err)
	}
	out, err = run(t, env, "clients", "update", added["client_id"].(string), "--json", "--headless=true")
	_ = json.Unmarshal([]byte(out), &added)
	if err != nil || added["headless"] != true {
		t.Fatalf("update --headless=true: %q %v", out, err)
	}

	// Public client: no secret printed.
	out, err = run(t, env, "clients", "add", "--name", "SPA", "--public", "--id", "spa", "--redirect-uri", "http://localhost:3000/cb")
	if err != nil || strings.Contains(out, "client_secret") || !strings.Contains(out, "spa") {
		t.Fatalf("public add: %q %v", out, err)
	}

	out, _ = run(t, env, "clients", "list")
	for _, want := range []string{id, "spa", "0xde0B295669a9FD93d5F28D9Ec85E40f4cb697BAe"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %s:\n%s", want, out)
		}
	}

	// Bad input is refused with every problem, and nothing is stored.
	_, err = run(t, env, "clients", "add", "--name", "", "--redirect-uri", "not a url", "--scope", "Admin")
	var ve *clients.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) < 3 {
		t.Fatalf("invalid add: %v", err)
	}
	if _, err := run(t, env, "clients", "add", "--name", "Dup", "--id", "spa", "--redirect-uri", "https://d.example/cb"); !errors.Is(err, clients.ErrClientExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := run(t, env, "clients", "remove", "spa"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, env, "clients", "show", "spa"); !errors.Is(err, clients.ErrClientNotFound) {
		t.Fatalf("show removed: %v", err)
	}
	if _, err := run(t, nil, "clients", "list"); err == nil || !strings.Contains(err.Error(), "database is required") {
		t.Fatalf("no database: %v", err)
	}
}

func TestKeysCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SIGNET_DATABASE": "sqlite:" + filepath.Join(dir, "signet.db"), "SIGNET_SECRET": strings.Repeat("k", 40)}
	if _, err := run(t, env, "keys", "rotate", "--create"); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, "keys", "rotate", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rotated map[string]string
	_ = json.Unmarshal([]byte(out), &rotated)
	out, err = run(t, env, "keys", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var listed struct{ Keys []map[string]string }
	err = json.Unmarshal([]byte(out), &listed)
	keys := listed.Keys
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys list: %s %v", out, err)
	}
	if keys[0]["kid"] != rotated["kid"] || keys[0]["status"] != "current" || keys[1]["status"] != "retired" || keys[1]["unpublish_at"] == "" {
		t.Fatalf("keys = %v", keys)
	}
	delete(env, "SIGNET_SECRET")
	if _, err := run(t, env, "keys", "rotate"); err == nil || !strings.Contains(err.Error(), "SIGNET_SECRET") {
		t.Fatalf("rotate without a secret: %v", err)
	}
}

// TestServeDevAndShutdown starts `serve --dev` on a free port, checks the
// demo client exists and discovery answers, then stops it gracefully.
func TestServeDevAndShutdown(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "signet.db")
	started := make(chan string, 1)
	var stderr bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &stderr, Getenv: func(k string) string { return "" }, Started: started}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--dev", "--database", db, "--listen", "127.0.0.1:0", "--issuer", "http://127.0.0.1:1"})
	}()
	var addr string
	select {
	case addr = <-started:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["issuer"] != "http://127.0.0.1:1" {
		t.Fatalf("discovery issuer = %v", disc["issuer"])
	}
	resp, err = http.Get("http://" + addr + "/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("ready: %v %v", resp, err)
	}
	// The container health check asks the same, from the configuration.
	if out, err := run(t, map[string]string{"SIGNET_LISTEN": addr, "SIGNET_ISSUER": "http://127.0.0.1:1"}, "healthcheck"); err != nil || !strings.Contains(out, "ready") {
		t.Fatalf("healthcheck: %q %v", out, err)
	}
	if _, err := run(t, map[string]string{"SIGNET_LISTEN": freePort(t)}, "healthcheck"); err == nil {
		t.Fatal("healthcheck succeeded with nothing listening")
	}
	out, err := run(t, map[string]string{"SIGNET_DATABASE": db}, "clients", "show", "--json", "demo")
	if err != nil || !strings.Contains(out, "http://127.0.0.1:1/demo/callback") {
		t.Fatalf("demo client: %s %v", out, err)
	}
	// An admin command writes while serve runs on the same database, and the
	// running server sees the new client at once.
	out, err = run(t, map[string]string{"SIGNET_DATABASE": db}, "clients", "add", "--json", "--name", "Live", "--redirect-uri", "https://live.example/cb")
	if err != nil {
		t.Fatalf("clients add while serving: %v", err)
	}
	var added map[string]string
	_ = json.Unmarshal([]byte(out), &added)
	body, _ := json.Marshal(map[string]string{"address": "0x00000000000000000000000000000000000000a1", "client_id": added["client_id"]})
	resp, err = http.Post("http://"+addr+"/auth/nonce", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("nonce for a client added while serving: %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("log lacks the shutdown:\n%s", stderr.String())
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	_, err := run(t, map[string]string{"SIGNET_ISSUER": "http://public.example"}, "serve")
	if err == nil || !strings.Contains(err.Error(), "plain http") || !strings.Contains(err.Error(), "secret is required") || !strings.Contains(err.Error(), "database is required") {
		t.Fatalf("err = %v", err)
	}
}

func TestVersionAndUnknown(t *testing.T) {
	out, err := run(t, nil, "version")
	if err != nil || !strings.HasPrefix(out, "signet ") {
		t.Fatalf("%q %v", out, err)
	}
	if _, err := run(t, nil, "frobnicate"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestServeMetricsListener: with metrics.listen, /metrics moves to its own
// listener and the public one answers 404 for it.
func TestServeMetricsListener(t *testing.T) {
	metricsAddr := freePort(t)
	env := map[string]string{"SIGNET_METRICS_LISTEN": metricsAddr}
	started := make(chan string, 1)
	var stderr bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &stderr, Getenv: func(k string) string { return env[k] }, Started: started}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--dev", "--database", "sqlite:" + filepath.Join(t.TempDir(), "signet.db"), "--listen", "127.0.0.1:0", "--issuer", "http://127.0.0.1:1"})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var addr string
	select {
	case addr = <-started:
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on the public listener: %d, want 404", resp.StatusCode)
	}
	resp, err = http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "signet_http_requests_total") {
		t.Fatalf("/metrics on metrics.listen: %d %.200s", resp.StatusCode, body)
	}
}

// TestCLIPapercuts: what a newcomer meets at the command line: help that
// exits 0, exit codes that say what went wrong, JSON errors under --json,
// one JSON object per command, clear words for a bad path or a wildcard,
// a warning for a license on a chain the server does not allow, completion
// scripts and a version with its commit.
func TestCLIPapercuts(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
	env := map[string]string{"SIGNET_DATABASE": db}
	for _, args := range [][]string{{"clients", "-h"}, {"clients", "help"}, {"keys", "--help"}, {"help"}} {
		var out, errOut bytes.Buffer
		err := (&Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}).Run(context.Background(), args)
		if exitCode(err) != exitOK || !strings.Contains(out.String(), "Usage: signet") {
			t.Errorf("%v: exit %d, out %q", args, exitCode(err), out.String())
		}
	}
	if _, err := run(t, env, "clients", "frobnicate"); exitCode(err) != exitUsage {
		t.Errorf("unknown subcommand: exit %d (%v), want %d", exitCode(err), err, exitUsage)
	}
	if _, err := run(t, env, "clients", "add", "--nope"); exitCode(err) != exitUsage {
		t.Errorf("unknown flag: exit %d (%v), want %d", exitCode(err), err, exitUsage)
	}
	if _, err := run(t, env, "clients", "add", "--create", "--name", "A", "--redirect-uri", "https://a.example/cb"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, env, "clients", "show", "nobody"); exitCode(err) != exitNotFound {
		t.Errorf("unknown client: exit %d (%v), want %d", exitCode(err), err, exitNotFound)
	}

	// --json: errors are one JSON object too.
	_, err := run(t, env, "clients", "add", "--json", "--name", "W", "--redirect-uri", "https://*.example/cb")
	var buf bytes.Buffer
	printError(&buf, err)
	var je map[string]any
	if json.Unmarshal(buf.Bytes(), &je) != nil || je["error"] != "invalid client" || !strings.Contains(fmt.Sprint(je["problems"]), "wildcard") || je["exit_code"] != float64(exitError) {
		t.Errorf("--json error: %s", buf.String())
	}
	out, err := run(t, env, "clients", "list", "--json")
	var listed map[string][]map[string]any
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed["clients"]) != 1 {
		t.Errorf("list --json is not one object with the clients: %q %v", out, err)
	}

	// A bad SQLite path says what is wrong.
	_, err = run(t, map[string]string{"SIGNET_DATABASE": "sqlite:/nonexistent/dir/x.db"}, "clients", "list", "--create")
	if err == nil || !strings.Contains(err.Error(), "directory /nonexistent/dir does not exist") {
		t.Errorf("a path in a missing directory: %v", err)
	}

	// A license on a chain the server does not allow is registered, with a warning.
	var errOut bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &errOut, Getenv: func(k string) string { return map[string]string{"SIGNET_DATABASE": db, "SIGNET_CHAINS": "1"}[k] }}
	if err := m.Run(context.Background(), []string{"clients", "add", "--name", "L", "--license", "0x00000000000000000000000000000000000000d1", "--chain-id", "137", "--redirect-uri", "https://l.example/cb"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "warning: the license's chain 137 is not among the server's chains") {
		t.Errorf("no warning for a license on chain 137: %q", errOut.String())
	}

	for _, shell := range []string{"bash", "zsh", "fish"} {
		if out, err := run(t, nil, "completion", shell); err != nil || !strings.Contains(out, "signet") || !strings.Contains(out, "rotate-secret") {
			t.Errorf("completion %s: %v %q", shell, err, out)
		}
	}
	out, err = run(t, nil, "version", "--json")
	var v map[string]any
	if err != nil || json.Unmarshal([]byte(out), &v) != nil || v["version"] == "" || v["go"] == "" {
		t.Errorf("version --json: %q %v", out, err)
	}
}

// TestSignAndQuiet: the helpers the README's shell examples use.
func TestSignAndQuiet(t *testing.T) {
	const key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
	addr, err := run(t, nil, "sign", "--key", key, "--address")
	if err != nil || strings.TrimSpace(addr) != "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23" {
		t.Fatalf("address: %q %v", addr, err)
	}
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader("hello\n"), Stdout: &out, Stderr: io.Discard, Getenv: func(string) string { return "" }}
	if err := m.Run(context.Background(), []string{"sign", "--key", key}); err != nil {
		t.Fatal(err)
	}
	sig, _ := hexutil.Decode(strings.TrimSpace(out.String()))
	sig[64] -= 27
	pub, err := crypto.SigToPub(siwe.TextHash([]byte("hello")).Bytes(), sig)
	if err != nil || crypto.PubkeyToAddress(*pub).Hex() != strings.TrimSpace(addr) {
		t.Fatalf("the signature does not recover the key's address: %v", err)
	}
	if _, err := run(t, nil, "sign", "--key", "nothex"); exitCode(err) != exitUsage {
		t.Fatalf("a bad key: %v", err)
	}
	db := "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
	id, err := run(t, map[string]string{"SIGNET_DATABASE": db}, "clients", "add", "--create", "--quiet", "--public", "--name", "Q", "--redirect-uri", "https://q.example/cb")
	if err != nil || strings.ContainsAny(strings.TrimSpace(id), " \n") || len(strings.TrimSpace(id)) != 20 {
		t.Fatalf("--quiet public: %q %v", id, err)
	}
	both, err := run(t, map[string]string{"SIGNET_DATABASE": db}, "clients", "add", "--quiet", "--name", "Q2", "--redirect-uri", "https://q.example/cb")
	if f := strings.Fields(both); err != nil || len(f) != 2 || len(f[1]) < 40 {
		t.Fatalf("--quiet confidential: %q %v", both, err)
	}
	var b bytes.Buffer
	printError(&b, nil)
	if b.Len() != 0 {
		t.Fatalf("printError(nil) wrote %q", b.String())
	}
}
