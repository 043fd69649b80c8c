package siwe

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"

	siwego "github.com/spruceid/siwe-go"
)

// Defaults for a zero [Config] field.
const (
	// DefaultLifetime is how long a challenge stays valid (SPEC: a challenge lives 5 min).
	DefaultLifetime = 5 * time.Minute
	// DefaultSkew is the clock difference tolerated for the message's own time fields.
	DefaultSkew = time.Minute
)

// MaxMessageBytes is the longest message text Verify accepts.
const MaxMessageBytes = 16 << 10

// Config holds what a [Verifier] writes into challenges and expects back.
type Config struct {
	// Domain is the EIP-4361 domain: the issuer's host[:port].
	Domain string
	// URI is the EIP-4361 URI: the issuer URL, in canonical form.
	URI string
	// ChainIDs are the EIP-155 chain IDs a challenge may name; the first is the default.
	ChainIDs []int64
	// Lifetime is how long a challenge stays valid; zero means DefaultLifetime.
	Lifetime time.Duration
	// Skew is the clock difference tolerated for Expiration Time, Not Before and
	// Issued At of a submitted message; zero means DefaultSkew.
	Skew time.Duration
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	problem := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("siwe config: "+format, args...))
	}

	domainOK := false
	if c.Domain == "" {
		problem("Domain is empty")
	} else if d, err := url.Parse("https://" + c.Domain); err != nil || d.Host != c.Domain || d.User != nil ||
		d.Path != "" || d.RawQuery != "" || d.Fragment != "" || d.ForceQuery {
		problem("Domain %q is not a host[:port]", c.Domain)
	} else {
		domainOK = true
	}

	uriOK := false
	if c.URI == "" {
		problem("URI is empty")
	} else if u, err := url.Parse(c.URI); err != nil || !u.IsAbs() || u.Host == "" {
		problem("URI %q is not an absolute URL with a host", c.URI)
	} else if u.String() != c.URI {
		problem("URI %q is not in canonical form (want %q)", c.URI, u.String())
	} else if domainOK && u.Host != c.Domain {
		problem("Domain %q is not the host[:port] of URI %q", c.Domain, c.URI)
	} else {
		uriOK = true
	}

	if len(c.ChainIDs) == 0 {
		problem("ChainIDs is empty")
	}
	for i, id := range c.ChainIDs {
		switch {
		case id <= 0:
			problem("chain ID %d is not positive", id)
		case id > math.MaxInt:
			problem("chain ID %d is too large for this platform", id)
		case slices.Index(c.ChainIDs, id) < i:
			problem("chain ID %d is listed twice", id)
		}
	}

	if c.Lifetime < 0 {
		problem("Lifetime %v is negative", c.Lifetime)
	}
	if c.Skew < 0 {
		problem("Skew %v is negative", c.Skew)
	}

	// EIP-4361: the issued text must parse back to the same domain and URI, or
	// no challenge of ours could ever verify.
	if domainOK && uriOK {
		if err := c.checkRoundTrip(); err != nil {
			problem("Domain %q and URI %q do not survive an EIP-4361 round trip: %v", c.Domain, c.URI, err)
		}
	}
	return errors.Join(errs...)
}

// checkRoundTrip builds a sample message with the configured domain and URI and
// parses it back.
func (c Config) checkRoundTrip() error {
	m, err := siwego.InitMessage(c.Domain, "0x0000000000000000000000000000000000000000", c.URI,
		"roundtrip0000000", map[string]any{"chainId": 1, "issuedAt": "2000-01-01T00:00:00Z"})
	if err != nil {
		return err
	}
	p, err := parseMessage(m.String())
	if err != nil {
		return err
	}
	if p.Domain != c.Domain || p.URI != c.URI {
		return fmt.Errorf("parsed back as domain %q, URI %q", p.Domain, p.URI)
	}
	return nil
}

// withDefaults returns a copy of c with zero durations replaced by the defaults.
func (c Config) withDefaults() Config {
	c.ChainIDs = slices.Clone(c.ChainIDs)
	if c.Lifetime == 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.Skew == 0 {
		c.Skew = DefaultSkew
	}
	return c
}
