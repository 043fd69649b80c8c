package op

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// API keys (SPEC "API keys") at the provider's endpoints: introspection
// answers for them (RFC 7662) and the token endpoint exchanges them for
// access tokens (RFC 8693). zitadel does neither: its introspection handler
// knows only the tokens it issued, and its token exchange accepts only the
// token types of RFC 8693 §3, reads client secrets from HTTP Basic only,
// refuses public clients, and would issue through a store method that has
// no sign-in behind it. So two small wrappers answer for API keys and hand
// every other request to zitadel.

// exchangeTTL bounds an access token exchanged for an API key: a resource
// server that verifies it offline cannot see the key's revocation, so it
// must not outlive it by much (RFC 8693 §2.2.1 leaves the lifetime to the
// server). The client's own access-token lifetime is the bound when shorter.
const exchangeTTL = 15 * time.Minute

// IssueForKey stores and signs an access token for an active key: typed
// at+jwt and signed as every access token (tokenCrypto), for the key's
// client and wallet, with the scopes given, the account claims of the
// wallet and api_key_id. It is stored like any access token, with a login
// of its own, so that introspection, userinfo and revocation know it; its
// refresh family is the key's ID, so that revoking or rotating the key
// revokes it too.
func (s *Server) IssueForKey(ctx context.Context, a *apikeys.Active, scopes []string) (string, time.Duration, error) {
	ttl, err := s.store.accessTTL(ctx, a.ClientID)
	if err != nil {
		return "", 0, serverError(err)
	}
	ttl = min(ttl, exchangeTTL)
	now := s.now()
	address, chainID := account(a.Subject)
	l := &storage.Login{
		ID: siwe.OrderedID(now, random.Base64(18)), Subject: a.Subject, Address: address, ChainID: chainID,
		AMR: []string{"api_key"}, AuthTime: now, ExpiresAt: now.Add(ttl),
	}
	t := &storage.Token{
		ID: siwe.OrderedID(now, random.Base64(18)), Kind: storage.KindAccess, ClientID: a.ClientID, Subject: a.Subject,
		Audience: []string{a.ClientID}, Scopes: scopes, LoginID: l.ID, FamilyID: a.ID, CreatedAt: now, ExpiresAt: now.Add(ttl), Login: l,
	}
	if err := s.db.CreateTokens(ctx, storage.TokenWrite{Login: l, Access: t}); err != nil {
		return "", 0, serverError(err)
	}
	// A stored token as a token request: the claims of every access token.
	c := accessTokenClaims(s.cfg.Issuer, &refreshRequest{token: t, scopes: scopes}, t.ID, t.ExpiresAt)
	c.Claims[apikeys.ClaimAPIKeyID] = a.ID
	jwt, err := s.store.tokens.sign(c)
	if err != nil {
		return "", 0, serverError(err)
	}
	return jwt, ttl, nil
}

// account reads what a login stores of a CAIP-10 account ID: for an
// Ethereum account ("eip155:<chainId>:<address>", CAIP-10) its address and
// chain; for any other (a Stellar "stellar:pubnet:G…") nothing, since its
// claims read the address from the subject and it has no EIP-155 chain.
func account(subject string) (address string, chainID int64) {
	parts := strings.SplitN(subject, ":", 3)
	if len(parts) != 3 || parts[0] != "eip155" {
		return "", 0
	}
	chainID, _ = strconv.ParseInt(parts[1], 10, 64)
	return parts[2], chainID
}
