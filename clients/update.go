package clients

import (
	"context"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

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
	// Scopes replaces the allowed scopes, known and API ones; naming no known
	// scope allows all of KnownScopes.
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
	r.audit(ctx, "client_updated", c)
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
