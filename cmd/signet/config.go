package main

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// Duration is a time.Duration written as "90s", "1h" or "720h" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 90s or 1h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Config is Signet's whole configuration: a YAML file, overridden by
// SIGNET_* environment variables, overridden by flags.
type Config struct {
	Issuer   string `yaml:"issuer"`
	Listen   string `yaml:"listen"`
	Database string `yaml:"database"`
	Secret   string `yaml:"secret"`
	// SecretFile names a file holding the secret (a Docker or Kubernetes
	// secret); used when Secret is empty.
	SecretFile string           `yaml:"secret_file"`
	Chains     []int64          `yaml:"chains"`
	RPC        map[int64]string `yaml:"rpc"`
	// RPCTimeout bounds each contract-wallet check.
	RPCTimeout Duration      `yaml:"rpc_timeout"`
	Tokens     TokenConfig   `yaml:"tokens"`
	Keys       KeyConfig     `yaml:"keys"`
	Limits     LimitConfig   `yaml:"rate_limits"`
	Log        LogConfig     `yaml:"log"`
	Metrics    MetricsConfig `yaml:"metrics"`
	Sessions   SessionConfig `yaml:"sessions"`
	Agents     AgentConfig   `yaml:"agents"`
	Dev        bool          `yaml:"dev"`
}

// SessionConfig sets single sign-on.
type SessionConfig struct {
	// TTL keeps a browser's sign-in for single sign-on this long; 0 turns
	// sessions off.
	TTL Duration `yaml:"ttl"`
}

// AgentConfig sets how agent sign-ins (SIWA) read agents' registration files.
type AgentConfig struct {
	// AllowPrivateFiles lets registration files be fetched from loopback,
	// private and link-local addresses, which are refused otherwise: an
	// agent chooses the URL, and must not reach the operator's network.
	AllowPrivateFiles bool `yaml:"allow_private_files"`
}

// MetricsConfig says where /metrics is served.
type MetricsConfig struct {
	// Listen, when set (e.g. 127.0.0.1:9464), serves /metrics on a listener
	// of its own, and the main listener no longer does.
	Listen string `yaml:"listen"`
}

// TokenConfig holds the default lifetimes.
type TokenConfig struct {
	AccessTTL      Duration `yaml:"access_ttl"`
	IDTTL          Duration `yaml:"id_ttl"`
	RefreshTTL     Duration `yaml:"refresh_ttl"`
	CodeTTL        Duration `yaml:"code_ttl"`
	ChallengeTTL   Duration `yaml:"challenge_ttl"`
	AuthRequestTTL Duration `yaml:"auth_request_ttl"`
}

// KeyConfig controls signing-key rotation.
type KeyConfig struct {
	// RotateEvery rotates the signing key on a schedule; 0 turns it off.
	RotateEvery Duration `yaml:"rotate_every"`
	// PublishDelay is how long a new key is published before it signs.
	PublishDelay Duration `yaml:"publish_delay"`
	// Refresh is how often a server rereads the keys from the database.
	Refresh Duration `yaml:"refresh"`
}

// LimitConfig bounds the challenge and verify endpoints.
type LimitConfig struct {
	// PerIP is requests per window from one client IP; 0 turns it off.
	PerIP int `yaml:"per_ip"`
	// PerAddress is challenges per window for one Ethereum address; 0 turns it off.
	PerAddress int `yaml:"per_address"`
	// Window is the period of both limits.
	Window Duration `yaml:"window"`
	// TrustedProxies are CIDRs whose X-Forwarded-For header is believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// LogConfig sets the log output.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Dev-mode defaults (SPEC "Running").
const (
	devIssuer   = "http://localhost:8080"
	devDatabase = "sqlite:signet.db"
	devListen   = ":8080"
)

// defaultConfig holds SPEC's defaults: those of the provider's one table
// (op.DefaultConfig), and the command's own (listen address, logs, keys).
func defaultConfig() Config {
	d := op.DefaultConfig("")
	return Config{
		Listen:     ":8080",
		Chains:     d.ChainIDs,
		RPCTimeout: Duration(siwe.DefaultContractCheckTimeout),
		Tokens: TokenConfig{
			AccessTTL:      Duration(d.AccessTokenTTL),
			IDTTL:          Duration(d.IDTokenTTL),
			RefreshTTL:     Duration(d.RefreshTokenTTL),
			CodeTTL:        Duration(d.CodeTTL),
			ChallengeTTL:   Duration(d.ChallengeTTL),
			AuthRequestTTL: Duration(d.AuthRequestTTL),
		},
		Keys:   KeyConfig{Refresh: Duration(30 * time.Second)},
		Limits: LimitConfig{PerIP: d.RateLimits.PerIP, PerAddress: d.RateLimits.PerAddress, Window: Duration(d.RateLimits.Window)},
		Log:    LogConfig{Level: "info", Format: "text"},
	}
}

// loadFile reads a YAML configuration file over c; unknown keys are errors.
func (c *Config) loadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

// loadEnv applies SIGNET_* variables; problems are collected, not fatal.
func (c *Config) loadEnv(getenv func(string) string, environ []string) []string {
	var problems []string
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q is not a duration like 90s or 1h", name, v))
				return
			}
			*dst = Duration(d)
		}
	}
	str("SIGNET_ISSUER", &c.Issuer)
	str("SIGNET_LISTEN", &c.Listen)
	str("SIGNET_DATABASE", &c.Database)
	str("SIGNET_SECRET", &c.Secret)
	str("SIGNET_SECRET_FILE", &c.SecretFile)
	str("SIGNET_LOG_LEVEL", &c.Log.Level)
	str("SIGNET_LOG_FORMAT", &c.Log.Format)
	str("SIGNET_METRICS_LISTEN", &c.Metrics.Listen)
	dur("SIGNET_ACCESS_TOKEN_TTL", &c.Tokens.AccessTTL)
	dur("SIGNET_ID_TOKEN_TTL", &c.Tokens.IDTTL)
	dur("SIGNET_REFRESH_TOKEN_TTL", &c.Tokens.RefreshTTL)
	dur("SIGNET_KEY_ROTATE_EVERY", &c.Keys.RotateEvery)
	dur("SIGNET_SESSION_TTL", &c.Sessions.TTL)
	num := func(name string, dst *int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s=%q is not a whole number", name, v))
				return
			}
			*dst = n
		}
	}
	num("SIGNET_RATE_LIMIT_PER_IP", &c.Limits.PerIP)
	num("SIGNET_RATE_LIMIT_PER_ADDRESS", &c.Limits.PerAddress)
	if v := getenv("SIGNET_TRUSTED_PROXIES"); v != "" {
		c.Limits.TrustedProxies = strings.Split(v, ",")
	}
	problems = append(problems, c.loadChainsEnv(getenv)...)
	problems = append(problems, c.loadAgentEnv(getenv)...)
	return append(problems, c.loadRPCEnv(environ)...)
}

// loadChainsEnv applies SIGNET_CHAINS and SIGNET_DEV.
func (c *Config) loadChainsEnv(getenv func(string) string) []string {
	var problems []string
	if v := getenv("SIGNET_CHAINS"); v != "" {
		chains, err := parseChains(v)
		if err != nil {
			problems = append(problems, "SIGNET_CHAINS: "+err.Error())
		} else {
			c.Chains = chains
		}
	}
	if v := getenv("SIGNET_DEV"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("SIGNET_DEV=%q is not a boolean", v))
		}
		c.Dev = c.Dev || b
	}
	return problems
}

// loadAgentEnv applies SIGNET_AGENTS_ALLOW_PRIVATE_FILES.
func (c *Config) loadAgentEnv(getenv func(string) string) []string {
	const name = "SIGNET_AGENTS_ALLOW_PRIVATE_FILES"
	v := getenv(name)
	if v == "" {
		return nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return []string{fmt.Sprintf("%s=%q is not a boolean", name, v)}
	}
	c.Agents.AllowPrivateFiles = b
	return nil
}

// loadRPCEnv applies SIGNET_RPC_<CHAINID> variables.
func (c *Config) loadRPCEnv(environ []string) []string {
	var problems []string
	for _, kv := range environ {
		name, v, _ := strings.Cut(kv, "=")
		idStr, ok := strings.CutPrefix(name, "SIGNET_RPC_")
		if !ok || v == "" {
			continue
		}
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil || id <= 0 {
			problems = append(problems, fmt.Sprintf("%s: the suffix must be a chain ID, e.g. SIGNET_RPC_137", name))
			continue
		}
		if c.RPC == nil {
			c.RPC = map[int64]string{}
		}
		c.RPC[id] = v
	}
	return problems
}

// parseChains reads "1,137" into chain IDs.
func parseChains(v string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%q is not a positive chain ID", part)
		}
		out = append(out, id)
	}
	return out, nil
}

// loadSecretFile reads the secret from SecretFile when no secret is given
// directly; surrounding white space (a trailing newline) is not part of it.
func (c *Config) loadSecretFile() []string {
	if c.Secret != "" || c.SecretFile == "" {
		return nil
	}
	b, err := os.ReadFile(c.SecretFile)
	if err != nil {
		return []string{fmt.Sprintf("secret_file %s cannot be read: %v", c.SecretFile, errors.Unwrap(err))}
	}
	c.Secret = strings.TrimSpace(string(b))
	if c.Secret == "" {
		return []string{fmt.Sprintf("secret_file %s is empty: put 32+ random characters in it, e.g. `openssl rand -base64 48 > %s`", c.SecretFile, c.SecretFile)}
	}
	return nil
}

// applyDev fills in dev-mode defaults for what the operator left unset.
func (c *Config) applyDev() {
	if !c.Dev {
		return
	}
	if c.Issuer == "" {
		c.Issuer = devIssuer
	}
	if c.Database == "" {
		c.Database = devDatabase
	}
	if c.Listen == "" {
		c.Listen = devListen
	}
}

// ConfigError lists every configuration problem.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// secretFile is where dev mode keeps a generated secret: beside the SQLite
// database.
func secretFile(database string) string {
	path := strings.TrimPrefix(database, "sqlite:")
	return filepath.Join(filepath.Dir(path), "signet.secret")
}

// trustedProxies parses rate_limits.trusted_proxies.
func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Limits.TrustedProxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("rate_limits.trusted_proxies: %q is not a CIDR or IP address", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}
