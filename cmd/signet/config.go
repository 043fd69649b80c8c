package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/signet-id/signet/clients"
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
	Issuer   string           `yaml:"issuer"`
	Listen   string           `yaml:"listen"`
	Database string           `yaml:"database"`
	Secret   string           `yaml:"secret"`
	Chains   []int64          `yaml:"chains"`
	RPC      map[int64]string `yaml:"rpc"`
	// RPCTimeout bounds each contract-wallet check.
	RPCTimeout Duration      `yaml:"rpc_timeout"`
	Tokens     TokenConfig   `yaml:"tokens"`
	Keys       KeyConfig     `yaml:"keys"`
	Limits     LimitConfig   `yaml:"rate_limits"`
	Log        LogConfig     `yaml:"log"`
	Metrics    MetricsConfig `yaml:"metrics"`
	Dev        bool          `yaml:"dev"`
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
	str("SIGNET_LOG_LEVEL", &c.Log.Level)
	str("SIGNET_LOG_FORMAT", &c.Log.Format)
	str("SIGNET_METRICS_LISTEN", &c.Metrics.Listen)
	dur("SIGNET_ACCESS_TOKEN_TTL", &c.Tokens.AccessTTL)
	dur("SIGNET_ID_TOKEN_TTL", &c.Tokens.IDTTL)
	dur("SIGNET_REFRESH_TOKEN_TTL", &c.Tokens.RefreshTTL)
	dur("SIGNET_KEY_ROTATE_EVERY", &c.Keys.RotateEvery)
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

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var p []string
	if c.Issuer == "" {
		p = append(p, "issuer is required (--issuer, SIGNET_ISSUER or issuer:)")
	} else if u, err := url.Parse(c.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p = append(p, fmt.Sprintf("issuer %q must be an absolute http(s) URL", c.Issuer))
	} else {
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			p = append(p, "issuer must not have a query, fragment or user info")
		}
		if u.Scheme == "http" && !c.Dev && !clients.IsLoopbackHost(u.Hostname()) {
			p = append(p, fmt.Sprintf("issuer %q uses plain http; only localhost and 127.0.0.1 may, unless --dev", c.Issuer))
		}
	}
	if c.Listen == "" {
		p = append(p, "listen address is required")
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		p = append(p, fmt.Sprintf("listen address %q must be host:port or :port", c.Listen))
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			p = append(p, fmt.Sprintf("metrics.listen %q must be host:port, e.g. 127.0.0.1:9464", c.Metrics.Listen))
		} else if c.Metrics.Listen == c.Listen {
			p = append(p, "metrics.listen must differ from listen")
		}
	}
	p = append(p, validateDatabase(c.Database)...)
	if c.Secret != "" && len(c.Secret) < 32 {
		p = append(p, "secret must be at least 32 characters")
	}
	if c.Secret == "" && !c.Dev {
		p = append(p, "secret is required (SIGNET_SECRET or secret:): it encrypts the signing keys at rest; use 32+ random characters, e.g. `openssl rand -base64 48`")
	}
	if len(c.Chains) == 0 {
		p = append(p, "at least one chain ID is required")
	}
	for _, id := range c.Chains {
		if id <= 0 {
			p = append(p, fmt.Sprintf("chain ID %d must be positive", id))
		}
	}
	for id, u := range c.RPC {
		if pu, err := url.Parse(u); err != nil || pu.Host == "" {
			p = append(p, fmt.Sprintf("rpc URL for chain %d is not an absolute URL", id))
		}
	}
	ttl := func(name string, d Duration, max time.Duration) {
		if d <= 0 {
			p = append(p, name+" must be positive")
		} else if max > 0 && time.Duration(d) > max {
			p = append(p, fmt.Sprintf("%s must be at most %s", name, max))
		}
	}
	ttl("tokens.access_ttl", c.Tokens.AccessTTL, 14*24*time.Hour)
	ttl("tokens.id_ttl", c.Tokens.IDTTL, 14*24*time.Hour)
	ttl("tokens.refresh_ttl", c.Tokens.RefreshTTL, 365*24*time.Hour)
	ttl("tokens.code_ttl", c.Tokens.CodeTTL, 10*time.Minute)
	ttl("tokens.challenge_ttl", c.Tokens.ChallengeTTL, time.Hour)
	ttl("tokens.auth_request_ttl", c.Tokens.AuthRequestTTL, 24*time.Hour)
	ttl("keys.refresh", c.Keys.Refresh, time.Hour)
	ttl("rpc_timeout", c.RPCTimeout, time.Minute)
	if c.Keys.RotateEvery < 0 || c.Keys.PublishDelay < 0 {
		p = append(p, "keys.rotate_every and keys.publish_delay must not be negative")
	}
	if c.Limits.PerIP < 0 || c.Limits.PerAddress < 0 {
		p = append(p, "rate_limits.per_ip and per_address must not be negative (0 turns a limit off)")
	}
	if (c.Limits.PerIP > 0 || c.Limits.PerAddress > 0) && c.Limits.Window <= 0 {
		p = append(p, "rate_limits.window must be positive")
	}
	if _, err := c.trustedProxies(); err != nil {
		p = append(p, err.Error())
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Sprintf("log.level %q must be debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		p = append(p, fmt.Sprintf("log.format %q must be text or json", c.Log.Format))
	}
	if len(p) > 0 {
		sort.Strings(p)
		return &ConfigError{Problems: p}
	}
	return nil
}

// validateDatabase checks the database setting alone; admin commands need
// nothing else.
func validateDatabase(dsn string) []string {
	switch {
	case dsn == "":
		return []string{"database is required (--database, SIGNET_DATABASE or database:), e.g. sqlite:signet.db or postgres://…"}
	case strings.HasPrefix(dsn, "sqlite:"):
		if strings.TrimPrefix(dsn, "sqlite:") == "" {
			return []string{"database sqlite: needs a file path, e.g. sqlite:signet.db"}
		}
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return []string{"database: the postgres URL does not parse"}
		}
	default:
		return []string{"database must be sqlite:PATH or a postgres:// URL"}
	}
	return nil
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
