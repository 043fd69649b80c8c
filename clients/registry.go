package clients

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
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

// NewRegistry returns a Registry that keeps clients in store.
func NewRegistry(store Store, opts ...Option) *Registry {
	r := &Registry{store: store, now: time.Now, random: rand.Reader}
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
	// Scopes are the scopes the client may receive; empty means all of KnownScopes.
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

// Changes describes an update to a client; nil and empty fields leave things as they are.
type Changes struct {
	// Name replaces the name.
	Name *string
	// RedirectURIs replaces the redirect URIs, before the additions and removals below.
	RedirectURIs *[]string
	// AddRedirectURIs are registered in addition.
	AddRedirectURIs []string
	// RemoveRedirectURIs are unregistered; each must be registered.
	RemoveRedirectURIs []string
	// PostLogoutRedirectURIs replaces the post-logout redirect URIs.
	PostLogoutRedirectURIs *[]string
	// Scopes replaces the allowed scopes; an empty list allows all of KnownScopes.
	Scopes *[]string
	// AddSigners are "0x…" addresses to allow as signers.
	AddSigners []string
	// RemoveSigners are "0x…" signer addresses to drop; each must be registered.
	RemoveSigners []string
	// AccessTokenTTL replaces the access token lifetime override; zero restores the default.
	AccessTokenTTL *time.Duration
	// IDTokenTTL replaces the ID token lifetime override; zero restores the default.
	IDTokenTTL *time.Duration
	// RefreshTokenTTL replaces the refresh token lifetime override; zero restores the default.
	RefreshTokenTTL *time.Duration
	// Headless allows (true) or refuses (false) the headless sign-in APIs.
	Headless *bool
	// AgentRegistries replaces the ERC-8004 registries whose agents may sign in.
	AgentRegistries *[]string
	// AgentOffline accepts (true) or refuses (false) agents verified offline.
	AgentOffline *bool
}

// Update applies ch to a client and stores the result if it passes the rules
// that Add enforces; on any problem the stored client is left unchanged.
func (r *Registry) Update(ctx context.Context, id string, ch Changes) (*Client, error) {
	old, err := r.load(ctx, id)
	if err != nil {
		return nil, err
	}
	c := old.clone()
	var probs problems
	if ch.Name != nil {
		c.Name = *ch.Name
	}
	if ch.RedirectURIs != nil {
		c.RedirectURIs = slices.Clone(*ch.RedirectURIs)
	}
	c.RedirectURIs = append(c.RedirectURIs, ch.AddRedirectURIs...)
	for _, u := range ch.RemoveRedirectURIs {
		if !slices.Contains(c.RedirectURIs, u) {
			probs.addf("redirect URI %q is not registered", u)
			continue
		}
		c.RedirectURIs = slices.DeleteFunc(c.RedirectURIs, func(s string) bool { return s == u })
	}
	if ch.PostLogoutRedirectURIs != nil {
		c.PostLogoutRedirectURIs = slices.Clone(*ch.PostLogoutRedirectURIs)
	}
	if ch.Scopes != nil {
		c.Scopes = slices.Clone(*ch.Scopes)
	}
	changeSigners(&probs, c, ch.AddSigners, ch.RemoveSigners)
	if ch.AccessTokenTTL != nil {
		c.AccessTokenTTL = *ch.AccessTokenTTL
	}
	if ch.IDTokenTTL != nil {
		c.IDTokenTTL = *ch.IDTokenTTL
	}
	if ch.RefreshTokenTTL != nil {
		c.RefreshTokenTTL = *ch.RefreshTokenTTL
	}
	if ch.Headless != nil {
		c.NoHeadless = !*ch.Headless
	}
	if ch.AgentRegistries != nil {
		c.AgentRegistries = checkAgentRegistries(&probs, *ch.AgentRegistries)
	}
	if ch.AgentOffline != nil {
		c.AgentOffline = *ch.AgentOffline
	}
	r.checkSettings(&probs, c)
	if err := probs.err(); err != nil {
		return nil, err
	}
	c.UpdatedAt = r.now()
	err = r.store.UpdateClient(ctx, c)
	r.forget(c.ID)
	if err != nil {
		return nil, storeError("update", c.ID, err)
	}
	return c, nil
}

// changeSigners adds and removes signer addresses; each removed one must be registered.
func changeSigners(probs *problems, c *Client, add, remove []string) {
	for _, a := range checkAddresses(probs, "signer", add) {
		if !slices.Contains(c.Signers, a) {
			c.Signers = append(c.Signers, a)
		}
	}
	for _, s := range remove {
		a, ok := checkAddress(probs, "signer", s)
		if !ok {
			continue
		}
		if !slices.Contains(c.Signers, a) {
			probs.addf("signer %s is not registered", a.Hex())
			continue
		}
		c.Signers = slices.DeleteFunc(c.Signers, func(b common.Address) bool { return b == a })
	}
}

// Remove deletes a client; an address-shaped ID may be in any case.
func (r *Registry) Remove(ctx context.Context, id string) error {
	id = NormalizeID(id)
	err := r.store.DeleteClient(ctx, id)
	r.forget(id)
	if err != nil {
		return storeError("remove", id, err)
	}
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
	return secret, nil
}

// storeError wraps a Store error with the operation and client ID, keeping
// ErrClientNotFound recognizable with errors.Is.
func storeError(op, id string, err error) error {
	if errors.Is(err, ErrClientNotFound) {
		return fmt.Errorf("%w: %q", ErrClientNotFound, id)
	}
	return fmt.Errorf("clients: %s %q: %w", op, id, err)
}
