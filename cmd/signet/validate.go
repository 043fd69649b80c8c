package main

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/signet-id/signet/clients"
)

// Validate reports every problem at once.
func (c *Config) Validate() error {
	p := c.serverProblems()
	p = append(p, validateDatabase(c.Database)...)
	p = append(p, c.chainProblems()...)
	p = append(p, c.durationProblems()...)
	p = append(p, c.limitAndLogProblems()...)
	if len(p) > 0 {
		sort.Strings(p)
		return &ConfigError{Problems: p}
	}
	return nil
}

// serverProblems checks the issuer, the listeners and the secret.
func (c *Config) serverProblems() []string {
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
	if c.Secret != "" && len(c.Secret) < 32 {
		p = append(p, "secret must be at least 32 characters")
	}
	if c.Secret == "" && !c.Dev {
		p = append(p, "secret is required (SIGNET_SECRET, SIGNET_SECRET_FILE, or secret: or secret_file: in the config file): it encrypts the signing keys at rest; use 32+ random characters, e.g. `openssl rand -base64 48`")
	}
	return p
}

// chainProblems checks the chains and their RPC endpoints.
func (c *Config) chainProblems() []string {
	var p []string
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
	return p
}

// durationProblems checks every lifetime and interval.
func (c *Config) durationProblems() []string {
	var p []string
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
	if c.Sessions.TTL < 0 || time.Duration(c.Sessions.TTL) > 30*24*time.Hour {
		p = append(p, "sessions.ttl must be between 0 (off) and 720h")
	}
	if c.Keys.RotateEvery < 0 || c.Keys.PublishDelay < 0 {
		p = append(p, "keys.rotate_every and keys.publish_delay must not be negative")
	}
	return p
}

// limitAndLogProblems checks the rate limits and the log settings.
func (c *Config) limitAndLogProblems() []string {
	var p []string
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
	return p
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
