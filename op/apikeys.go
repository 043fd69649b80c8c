package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/httpapi"
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

// introspectAPIKeys answers RFC 7662 §2.2 for a token shaped like an API
// key: active only for the client that asks, if the key is its own (RFC
// 7662 §4: a client learns nothing of another's credentials), with the
// key's wallet, scopes and ID. The caller authenticates as for tokens.
func (s *Server) introspectAPIKeys(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Form.Get("token")
		if !apikeys.Shaped(token) {
			next.ServeHTTP(w, r)
			return
		}
		caller, err := s.authenticateClient(r, false)
		if err != nil {
			httpapi.WriteOAuth(w, r, s.log, err, false)
			return
		}
		a, err := s.apiKeys.Check(r.Context(), token, caller.ID, "introspection")
		switch {
		case errors.Is(err, apikeys.ErrInactive):
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"active": false})
		case err != nil:
			httpapi.WriteOAuth(w, r, s.log, err, false)
		default:
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{
				"active": true, "sub": a.Subject, ClaimAccountAddress: accountAddress(a.Subject), "scope": strings.Join(a.Scopes, " "),
				"client_id": a.ClientID, ClaimAPIKeyID: a.ID, "token_type": "api_key", "iss": s.cfg.Issuer,
			})
		}
	})
}

// errClientAuth is every failed client authentication: one answer for an
// unknown client and a wrong secret, so that IDs cannot be probed.
var errClientAuth = oidc.ErrInvalidClient().WithDescription("client authentication failed")

// authenticateClient authenticates the calling client as the token
// endpoint does (RFC 6749 §2.3.1: HTTP Basic, or client_id and
// client_secret in the body). A public client has no secret; where public
// is true it is identified by its client_id alone (RFC 6749 §3.2.1), as at
// the token endpoint, and elsewhere refused.
func (s *Server) authenticateClient(r *http.Request, public bool) (*clients.Client, error) {
	creds := httpapi.CredentialsFrom(r, r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"))
	id := creds.ID
	if !creds.Present {
		id = r.PostForm.Get("client_id")
	}
	if id == "" {
		return nil, errClientAuth
	}
	cl, err := s.clients.Get(r.Context(), id)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, errClientAuth
	}
	if err != nil {
		return nil, err
	}
	if cl.Public {
		if public {
			return cl, nil
		}
		return nil, errClientAuth
	}
	if !creds.Present || !cl.CheckSecret(creds.Secret) {
		return nil, errClientAuth
	}
	return cl, nil
}

// exchangeAPIKeys answers token exchange requests (RFC 8693 §2) at the
// token endpoint and hands every other grant to zitadel.
func (s *Server) exchangeAPIKeys(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostForm.Get("grant_type") != string(oidc.GrantTypeTokenExchange) {
			next.ServeHTTP(w, r)
			return
		}
		resp, err := s.exchange(r)
		if err != nil {
			httpapi.WriteOAuth(w, r, s.log, err, false)
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, resp)
	})
}

// exchange checks a token exchange of an API key and issues its access
// token. The client authenticates as at the token endpoint: a
// confidential client with its secret; a public client, which has none,
// by its client_id, since the key is itself a secret bound to that client.
// Either way the key must be the client's own.
func (s *Server) exchange(r *http.Request) (*oidc.TokenExchangeResponse, error) {
	cl, err := s.authenticateClient(r, true)
	if err != nil {
		return nil, err
	}
	if err := checkExchange(r.PostForm, cl.ID); err != nil {
		return nil, err
	}
	a, err := s.apiKeys.Check(r.Context(), r.PostForm.Get("subject_token"), cl.ID, "exchange")
	if errors.Is(err, apikeys.ErrInactive) {
		// RFC 8693 §2.2.2: an invalid subject_token is invalid_request.
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token is not an active API key of this client")
	}
	if err != nil {
		return nil, err
	}
	scopes, err := apikeys.Narrow(a, strings.Fields(r.PostForm.Get("scope")))
	if err != nil {
		return nil, err
	}
	token, ttl, err := s.issueForKey(r.Context(), a, scopes)
	if err != nil {
		return nil, err
	}
	return &oidc.TokenExchangeResponse{
		AccessToken: token, IssuedTokenType: oidc.AccessTokenType, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(ttl.Seconds()), Scopes: scopes,
	}, nil
}

// checkExchange applies RFC 8693 §2.1 to what Signet supports: an API key
// as subject_token, no actor_token (no delegation), an access token as the
// only token to issue, for the client itself (invalid_target otherwise,
// RFC 8693 §2.2.2).
func checkExchange(f url.Values, clientID string) error {
	switch {
	case f.Get("subject_token") == "":
		return oidc.ErrInvalidRequest().WithDescription("subject_token is required")
	case f.Get("subject_token_type") != apikeys.TokenType:
		return oidc.ErrInvalidRequest().WithDescription("subject_token_type must be " + apikeys.TokenType + ": Signet exchanges API keys only")
	case f.Get("actor_token") != "" || f.Get("actor_token_type") != "":
		return oidc.ErrInvalidRequest().WithDescription("actor_token is not supported")
	case f.Get("requested_token_type") != "" && f.Get("requested_token_type") != string(oidc.AccessTokenType):
		return oidc.ErrInvalidRequest().WithDescription("requested_token_type must be " + string(oidc.AccessTokenType))
	case len(f["resource"]) > 0:
		return oidc.ErrInvalidTarget().WithDescription("resource is not supported: the token is for the key's client")
	}
	for _, aud := range f["audience"] {
		if aud != clientID {
			return oidc.ErrInvalidTarget().WithDescription("audience must be the key's client")
		}
	}
	return nil
}

// issueForKey stores and signs an access token for an active key: typed
// at+jwt and signed as every access token (tokenCrypto), for the key's
// client and wallet, with the scopes given, the account claims of the
// wallet and api_key_id. It is stored like any access token, with a login
// of its own, so that introspection, userinfo and revocation know it; its
// refresh family is the key's ID, so that revoking or rotating the key
// revokes it too.
func (s *Server) issueForKey(ctx context.Context, a *apikeys.Active, scopes []string) (string, time.Duration, error) {
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
	claims := accessTokenClaims(s.cfg.Issuer, &refreshRequest{token: t, scopes: scopes}, t.ID, t.ExpiresAt)
	claims.Claims[ClaimAPIKeyID] = a.ID
	jwt, err := s.store.tokens.sign(claims)
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
