package clients

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// ErrPublicClient reports an attempt to give a secret to a public client.
var ErrPublicClient = errors.New("clients: public clients have no secret")

// Registry registers and changes clients, enforcing the
// registration rules before anything reaches the Store; it is safe for
// concurrent use when its Store and random source are.
type Registry struct {
	store             Store
	now               func() time.Time
	random            io.Reader
	insecureRedirects bool
	cacheTTL          time.Duration
	cache             *cache // nil without WithCache
	log               *slog.Logger
}

// Option configures a Registry.
type Option func(*Registry)

// WithClock sets the clock used for creation and update times.
func WithClock(now func() time.Time) Option {
	return func(r *Registry) { r.now = now }
}

// WithRandom sets the source of client IDs and secrets; it defaults to crypto/rand.
func WithRandom(random io.Reader) Option {
	return func(r *Registry) { r.random = random }
}

// WithInsecureRedirects accepts plain-http redirect URIs on any host; for dev mode only.
func WithInsecureRedirects() Option {
	return func(r *Registry) { r.insecureRedirects = true }
}

// WithCache keeps clients read from the store for up to ttl, so that the
// requests of a sign-in don't each read the database. Changes made through
// this Registry apply at once; changes made elsewhere (another replica, the
// admin CLI on the same database) apply within ttl. Zero disables the cache.
func WithCache(ttl time.Duration) Option {
	return func(r *Registry) { r.cacheTTL = ttl }
}

// WithLogger records every change to a client as an event in log (its ID
// and what changed, never a secret).
func WithLogger(log *slog.Logger) Option {
	return func(r *Registry) { r.log = log }
}

// NewRegistry returns a Registry that keeps clients in store.
func NewRegistry(store Store, opts ...Option) *Registry {
	r := &Registry{store: store, now: time.Now, random: rand.Reader, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(r)
	}
	if r.cacheTTL > 0 {
		r.cache = newCache(r.cacheTTL, r.now)
	}
	return r
}

// Params describes a client to register.
type Params struct {
	// ID is an optional fixed client ID; empty means a random one.
	ID string
	// Name is shown on the login page; required.
	Name string
	// RedirectURIs are where authorization responses may go; at least one.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where the end-session endpoint may send users.
	PostLogoutRedirectURIs []string
	// Public marks a client without a secret, which must use PKCE.
	Public bool
	// Scopes are the scopes the client may receive: known scopes and API
	// scopes of its own (see IsAPIScope); naming no known scope means all of
	// KnownScopes.
	Scopes []string
	// AccessTokenTTL overrides the access token lifetime; zero keeps the default.
	AccessTokenTTL time.Duration
	// IDTokenTTL overrides the ID token lifetime; zero keeps the default.
	IDTokenTTL time.Duration
	// RefreshTokenTTL overrides the refresh token lifetime; zero keeps the default.
	RefreshTokenTTL time.Duration
	// License is a developer-license contract address ("0x…"), which becomes the client ID.
	License string
	// ChainID is the chain of the license contract; required with License.
	ChainID int64
	// Signers are "0x…" addresses allowed to sign for the client.
	Signers []string
	// NoHeadless refuses the headless sign-in APIs for the client.
	NoHeadless bool
	// Profile is a wire profile (see Profiles); its access-token lifetime
	// is the default when AccessTokenTTL is zero.
	Profile string
	// AgentRegistries are "eip155:<chain>:<address>" ERC-8004 registries
	// whose agents may sign in.
	AgentRegistries []string
	// AgentOffline accepts agents whose registry's chain cannot be read.
	AgentOffline bool
}

// Add validates p and registers the client, returning it with its secret,
// which is shown only now; the secret is empty for public clients.
func (r *Registry) Add(ctx context.Context, p Params) (*Client, string, error) {
	var probs problems
	c := &Client{
		Name:                   p.Name,
		Public:                 p.Public,
		RedirectURIs:           slices.Clone(p.RedirectURIs),
		PostLogoutRedirectURIs: slices.Clone(p.PostLogoutRedirectURIs),
		Scopes:                 slices.Clone(p.Scopes),
		AccessTokenTTL:         p.AccessTokenTTL,
		IDTokenTTL:             p.IDTokenTTL,
		RefreshTokenTTL:        p.RefreshTokenTTL,
		NoHeadless:             p.NoHeadless,
		Profile:                p.Profile,
		AgentOffline:           p.AgentOffline,
	}
	if c.AccessTokenTTL == 0 {
		c.AccessTokenTTL = Profiles[p.Profile]
	}
	checkIdentity(&probs, c, p)
	c.Signers = checkAddresses(&probs, "signer", p.Signers)
	c.AgentRegistries = checkAgentRegistries(&probs, p.AgentRegistries)
	r.checkSettings(&probs, c)
	if err := probs.err(); err != nil {
		return nil, "", err
	}

	if c.ID == "" {
		id, err := randomID(r.random)
		if err != nil {
			return nil, "", err
		}
		c.ID = id
	}
	var secret string
	if !c.Public {
		var err error
		if secret, err = newSecret(r.random); err != nil {
			return nil, "", err
		}
		c.SecretHash = HashSecret(secret)
	}
	now := r.now()
	c.CreatedAt, c.UpdatedAt = now, now
	if err := r.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, ErrClientExists) {
			return nil, "", fmt.Errorf("%w: %q", ErrClientExists, c.ID)
		}
		return nil, "", fmt.Errorf("clients: create %q: %w", c.ID, err)
	}
	r.audit(ctx, "client_added", c)
	return c, secret, nil
}

// checkIdentity sets c's ID and license from p: a license address becomes
// the client ID; otherwise a fixed ID, if any, is checked.
func checkIdentity(probs *problems, c *Client, p Params) {
	switch {
	case p.License != "":
		if license, ok := checkAddress(probs, "license", p.License); ok {
			c.ID = license.Hex()
			if p.ID != "" && NormalizeID(p.ID) != c.ID {
				probs.addf("client ID %q differs from the license address %s", p.ID, c.ID)
			}
		}
		if p.ChainID <= 0 {
			probs.addf("chain ID must be positive with a license")
		}
		c.LicenseChainID = p.ChainID
	case p.ChainID != 0:
		probs.addf("chain ID %d given without a license", p.ChainID)
	}
	if p.License == "" && p.ID != "" {
		c.ID = checkID(probs, p.ID)
	}
}

// Get returns the client with the given ID; an address-shaped ID may be in
// any case. With [WithCache], the client may be shared with other callers:
// it must not be modified.
func (r *Registry) Get(ctx context.Context, id string) (*Client, error) {
	id = NormalizeID(id)
	if r.cache != nil {
		if c, ok := r.cache.get(id); ok {
			return c, nil
		}
	}
	c, err := r.load(ctx, id)
	if err == nil && r.cache != nil {
		r.cache.put(c)
	}
	return c, err
}

// load reads a client from the store, never from the cache: changes start
// from the stored client.
func (r *Registry) load(ctx context.Context, id string) (*Client, error) {
	id = NormalizeID(id)
	c, err := r.store.GetClient(ctx, id)
	if err != nil {
		return nil, storeError("get", id, err)
	}
	return c, nil
}

// forget drops a changed client from the cache.
func (r *Registry) forget(id string) {
	if r.cache != nil {
		r.cache.drop(id)
	}
}

// List returns every client, ordered by ID.
func (r *Registry) List(ctx context.Context) ([]*Client, error) {
	cs, err := r.store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("clients: list: %w", err)
	}
	return cs, nil
}

// Remove deletes a client; an address-shaped ID may be in any case.
func (r *Registry) Remove(ctx context.Context, id string) error {
	id = NormalizeID(id)
	err := r.store.DeleteClient(ctx, id)
	r.forget(id)
	if err != nil {
		return storeError("remove", id, err)
	}
	r.log.InfoContext(ctx, "client removed", "event", "client_removed", "client_id", id)
	return nil
}

// RotateSecret gives a confidential client a new secret, returned only now;
// the old secret stops working at once (on other replicas, within their
// cache lifetime; see [WithCache]).
func (r *Registry) RotateSecret(ctx context.Context, id string) (string, error) {
	old, err := r.load(ctx, id)
	if err != nil {
		return "", err
	}
	if old.Public {
		return "", fmt.Errorf("%w: %q", ErrPublicClient, old.ID)
	}
	secret, err := newSecret(r.random)
	if err != nil {
		return "", err
	}
	c := old.clone()
	c.SecretHash = HashSecret(secret)
	c.UpdatedAt = r.now()
	err = r.store.UpdateClient(ctx, c)
	r.forget(c.ID)
	if err != nil {
		return "", storeError("rotate secret of", c.ID, err)
	}
	r.log.InfoContext(ctx, "client secret rotated", "event", "client_secret_rotated", "client_id", c.ID)
	return secret, nil
}

// audit records a client's registration or change.
func (r *Registry) audit(ctx context.Context, event string, c *Client) {
	r.log.InfoContext(ctx, "client "+strings.TrimPrefix(event, "client_"), "event", event, "client_id", c.ID, "name", c.Name,
		"public", c.Public, "redirect_uris", c.RedirectURIs, "scopes", c.Scopes, "license_chain_id", c.LicenseChainID, "headless", !c.NoHeadless)
}

// storeError wraps a Store error with the operation and client ID, keeping
// ErrClientNotFound recognizable with errors.Is.
func storeError(op, id string, err error) error {
	if errors.Is(err, ErrClientNotFound) {
		return fmt.Errorf("%w: %q", ErrClientNotFound, id)
	}
	return fmt.Errorf("clients: %s %q: %w", op, id, err)
}
