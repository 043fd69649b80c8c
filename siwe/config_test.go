package siwe

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := []Config{
		testConfig(),
		{Domain: "localhost:8080", URI: "http://localhost:8080", ChainIDs: []int64{1}},
		{Domain: "id.example.com", URI: "https://id.example.com/", ChainIDs: []int64{137, 1}, Lifetime: time.Minute, Skew: time.Second},
		{Domain: "127.0.0.1:9000", URI: "http://127.0.0.1:9000/signet/issuer", ChainIDs: []int64{31337}},
		{Domain: "[::1]:8080", URI: "http://[::1]:8080", ChainIDs: []int64{1}},
	}
	for _, cfg := range valid {
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", cfg, err)
		}
	}

	tests := []struct {
		name string
		edit func(c *Config)
		want []string
	}{
		{"empty domain", func(c *Config) { c.Domain = "" }, []string{"Domain is empty"}},
		{"domain with scheme", func(c *Config) { c.Domain = "https://signet.example" }, []string{"is not a host[:port]"}},
		{"domain with path", func(c *Config) { c.Domain = "signet.example/oidc" }, []string{"is not a host[:port]"}},
		{"domain with userinfo", func(c *Config) { c.Domain = "me@signet.example:8443" }, []string{"is not a host[:port]"}},
		{"domain not the URI's host", func(c *Config) { c.Domain = "signet.example" }, []string{"is not the host[:port] of URI"}},
		{"empty URI", func(c *Config) { c.URI = "" }, []string{"URI is empty"}},
		{"relative URI", func(c *Config) { c.URI = "/oidc" }, []string{"is not an absolute URL"}},
		{"URI without host", func(c *Config) { c.URI = "urn:signet" }, []string{"is not an absolute URL"}},
		{"URI not canonical", func(c *Config) { c.URI = "HTTPS://signet.example:8443/oidc" }, []string{"not in canonical form"}},
		{"URI with space", func(c *Config) { c.URI = "https://signet.example:8443/a b" }, []string{"not in canonical form"}},
		{"no chains", func(c *Config) { c.ChainIDs = nil }, []string{"ChainIDs is empty"}},
		{"zero chain", func(c *Config) { c.ChainIDs = []int64{1, 0} }, []string{"chain ID 0 is not positive"}},
		{"duplicate chain", func(c *Config) { c.ChainIDs = []int64{1, 137, 1} }, []string{"chain ID 1 is listed twice"}},
		{"negative lifetime", func(c *Config) { c.Lifetime = -time.Second }, []string{"Lifetime -1s is negative"}},
		{"negative skew", func(c *Config) { c.Skew = -time.Second }, []string{"Skew -1s is negative"}},
		{"every problem at once", func(c *Config) { *c = Config{Lifetime: -1, Skew: -1} },
			[]string{"Domain is empty", "URI is empty", "ChainIDs is empty", "Lifetime", "Skew"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.edit(&cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil", cfg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate error %q does not mention %q", err, w)
				}
			}
			if _, err := NewVerifier(cfg, newMemStore()); err == nil {
				t.Errorf("NewVerifier accepted the invalid config")
			}
		})
	}
}

func TestNewVerifier(t *testing.T) {
	if _, err := NewVerifier(testConfig(), nil); err == nil {
		t.Errorf("NewVerifier accepted a nil store")
	}

	// The Verifier keeps its own copy of the chain list.
	cfg := testConfig()
	store := newMemStore()
	v, err := NewVerifier(cfg, store, nil, WithClock(nil), WithRandom(nil), WithSignatureChecker(nil))
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	cfg.ChainIDs[0] = 5
	c, err := v.Issue(context.Background(), IssueRequest{Address: "0x52908400098527886E0F7030069857D2E4169EE7"})
	if err != nil {
		t.Fatalf("Issue with the defaults: %v", err)
	}
	if c.ChainID != 1 {
		t.Errorf("chain ID = %d: the caller's slice leaked into the Verifier", c.ChainID)
	}
	if d := c.ExpiresAt.Sub(c.IssuedAt); d != DefaultLifetime {
		t.Errorf("lifetime = %v, want %v", d, DefaultLifetime)
	}
	if time.Since(c.IssuedAt) > time.Minute || time.Since(c.IssuedAt) < 0 {
		t.Errorf("IssuedAt %v is not now: the default clock is not time.Now", c.IssuedAt)
	}
	if v.cfg.Skew != DefaultSkew {
		t.Errorf("Skew = %v, want %v", v.cfg.Skew, DefaultSkew)
	}
}
