package main

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "signet.yaml")
	yaml := `issuer: https://file.example
listen: ":9000"
database: sqlite:file.db
secret: file-secret-file-secret-file-secret-00
chains: [1, 10]
rpc:
  1: https://rpc.example/1
tokens:
  access_ttl: 30m
log:
  level: debug
  format: json
`
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SIGNET_LISTEN":  ":9100",
		"SIGNET_CHAINS":  "1,137",
		"SIGNET_RPC_137": "https://rpc.example/137",
	}
	m := &Main{Getenv: func(k string) string { return env[k] }, Environ: []string{"SIGNET_RPC_137=https://rpc.example/137", "OTHER=1"}}
	cfg, problems := m.loadConfig(&commonFlags{config: file, listen: ":9200"})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Issuer != "https://file.example" || cfg.Listen != ":9200" || cfg.Database != "sqlite:file.db" {
		t.Errorf("file < env < flags not respected: %+v", cfg)
	}
	if len(cfg.Chains) != 2 || cfg.Chains[1] != 137 {
		t.Errorf("chains = %v, want the env's [1 137]", cfg.Chains)
	}
	if cfg.RPC[1] != "https://rpc.example/1" || cfg.RPC[137] != "https://rpc.example/137" {
		t.Errorf("rpc = %v", cfg.RPC)
	}
	if time.Duration(cfg.Tokens.AccessTTL) != 30*time.Minute || time.Duration(cfg.Tokens.IDTTL) != time.Hour {
		t.Errorf("tokens = %+v", cfg.Tokens)
	}
}

func TestConfigValidateListsEveryProblem(t *testing.T) {
	env := map[string]string{"SIGNET_CHAINS": "1,abc", "SIGNET_ACCESS_TOKEN_TTL": "forever"}
	m := &Main{Getenv: func(k string) string { return env[k] }, Environ: []string{"SIGNET_RPC_x=http://a"}}
	cfg, problems := m.loadConfig(&commonFlags{issuer: "http://idp.example.com", database: "mysql://x", listen: "nonsense"})
	cfg.Secret = "short"
	cfg.Log.Level = "loud"
	err := joinProblems(problems, cfg.Validate())
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		"SIGNET_CHAINS", "SIGNET_ACCESS_TOKEN_TTL", "SIGNET_RPC_x", "plain http", "listen address",
		"database must be sqlite:PATH or a postgres:// URL", "at least 32 characters", "log.level",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("problems lack %q:\n%s", want, text)
		}
	}
	if len(ce.Problems) < 8 {
		t.Errorf("only %d problems reported", len(ce.Problems))
	}
}

func TestConfigRules(t *testing.T) {
	base := func() Config {
		c := defaultConfig()
		c.Issuer, c.Database, c.Secret = "https://id.example", "sqlite:x.db", strings.Repeat("s", 32)
		return c
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"issuer with path", func(c *Config) { c.Issuer = "https://id.example/tenant" }, ""},
		{"http localhost", func(c *Config) { c.Issuer = "http://localhost:8080" }, ""},
		{"http 127.0.0.1", func(c *Config) { c.Issuer = "http://127.0.0.1:8080" }, ""},
		{"http elsewhere", func(c *Config) { c.Issuer = "http://id.example" }, "plain http"},
		{"http elsewhere in dev", func(c *Config) { c.Issuer, c.Dev = "http://10.0.0.5:8080", true }, ""},
		{"issuer with query", func(c *Config) { c.Issuer = "https://id.example/?a=b" }, "query"},
		{"relative issuer", func(c *Config) { c.Issuer = "/x" }, "absolute"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "issuer is required"},
		{"no secret", func(c *Config) { c.Secret = "" }, "secret is required"},
		{"no secret in dev", func(c *Config) { c.Secret, c.Dev = "", true }, ""},
		{"postgres", func(c *Config) { c.Database = "postgres://u@h/db" }, ""},
		{"no database", func(c *Config) { c.Database = "" }, "database is required"},
		{"no chains", func(c *Config) { c.Chains = nil }, "chain"},
		{"negative chain", func(c *Config) { c.Chains = []int64{-1} }, "positive"},
		{"zero ttl", func(c *Config) { c.Tokens.AccessTTL = 0 }, "access_ttl must be positive"},
		{"ttl over 14 days", func(c *Config) { c.Tokens.IDTTL = Duration(15 * 24 * time.Hour) }, "id_ttl must be at most"},
		{"bad rpc", func(c *Config) { c.RPC = map[int64]string{1: "nope"} }, "rpc URL"},
		{"bad log format", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"limits off", func(c *Config) { c.Limits.PerIP, c.Limits.PerAddress = 0, 0 }, ""},
		{"negative limit", func(c *Config) { c.Limits.PerIP = -1 }, "must not be negative"},
		{"trusted proxies", func(c *Config) { c.Limits.TrustedProxies = []string{"10.0.0.0/8", "127.0.0.1"} }, ""},
		{"bad trusted proxy", func(c *Config) { c.Limits.TrustedProxies = []string{"ten"} }, "trusted_proxies"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConfigFileUnknownKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	_ = os.WriteFile(file, []byte("isuer: https://typo.example\n"), 0o600)
	c := defaultConfig()
	if err := c.loadFile(file); err == nil || !strings.Contains(err.Error(), "isuer") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

func TestDevDefaults(t *testing.T) {
	m := &Main{}
	cfg, _ := m.loadConfig(&commonFlags{dev: true})
	if cfg.Issuer != "http://localhost:8080" || cfg.Database != "sqlite:signet.db" || cfg.Listen != ":8080" {
		t.Fatalf("dev defaults = %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestLogsNeverCarryAParameterWhole: a long value is cut in the log line.
func TestLogsNeverCarryAParameterWhole(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(LogConfig{Level: "info", Format: "json"}, &buf)
	log.Info("request", "state", strings.Repeat("s", 100_000), slog.Group("auth_request", "redirect_uri", strings.Repeat("r", 5000)))
	if buf.Len() > 2*maxLoggedValue+300 {
		t.Fatalf("log line of %d bytes: %.300s", buf.Len(), buf.String())
	}
	if !strings.Contains(buf.String(), "(100000 bytes)") {
		t.Fatalf("the cut is not marked: %.400s", buf.String())
	}
}

// TestSecretFile: the secret may come from a file (a Docker secret), with
// its trailing newline; a missing or empty file is a listed problem.
func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte(strings.Repeat("s", 48)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Main{Getenv: func(k string) string {
		return map[string]string{"SIGNET_SECRET_FILE": file, "SIGNET_ISSUER": "https://id.example", "SIGNET_DATABASE": "sqlite:x.db"}[k]
	}}
	cfg, problems := m.loadConfig(&commonFlags{})
	if len(problems) != 0 || cfg.Secret != strings.Repeat("s", 48) || cfg.Validate() != nil {
		t.Fatalf("secret %q, problems %v, %v", cfg.Secret, problems, cfg.Validate())
	}
	for name, content := range map[string]*string{"empty": ptr(""), "missing": nil} {
		path := filepath.Join(dir, name)
		if content != nil {
			_ = os.WriteFile(path, []byte(*content), 0o600)
		}
		m := &Main{Getenv: func(k string) string { return map[string]string{"SIGNET_SECRET_FILE": path}[k] }}
		if _, problems := m.loadConfig(&commonFlags{}); len(problems) != 1 || !strings.Contains(problems[0], "secret_file") {
			t.Errorf("%s secret file: problems %v", name, problems)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// TestREADMEConfigExample: the README's configuration file loads and
// validates as written, once a secret is given.
func TestREADMEConfigExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```yaml\n")
	example, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("the README has no yaml block")
	}
	file := filepath.Join(t.TempDir(), "signet.yaml")
	_ = os.WriteFile(file, []byte(example+"secret: "+strings.Repeat("s", 32)+"\n"), 0o600)
	c := defaultConfig()
	if err := c.loadFile(file); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("the README's example does not validate: %v", err)
	}
	if c.Issuer != "https://id.example.com" || len(c.Chains) != 2 {
		t.Fatalf("the example loaded as %+v", c)
	}
}
