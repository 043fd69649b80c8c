package apikeys

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/claims"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

// API keys at the provider's endpoints: introspection answers for them
// (RFC 7662) and the token endpoint exchanges them for access tokens (RFC
// 8693). zitadel does neither: its introspection handler knows only the
// tokens it issued, and its token exchange accepts only the token types of
// RFC 8693 §3, reads client secrets from HTTP Basic only, refuses public
// clients, and would issue through a store method that has no sign-in
// behind it. So two small wrappers answer for API keys and hand every
// other request to zitadel.

// ClaimAPIKeyID names, in introspection answers and exchanged tokens, the
// key a credential stands for.
const ClaimAPIKeyID = claims.ClaimAPIKeyID

// TokenIssuer issues the access token an exchange earns; the OpenID
// provider is one.
type TokenIssuer interface {
	// IssueForKey stores and signs an access token for the key's client and
	// wallet with these scopes, and returns it with its lifetime.
	IssueForKey(ctx context.Context, a *Active, scopes []string) (string, time.Duration, error)
}

// Endpoints wraps the provider's introspection and token endpoints.
type Endpoints struct {
	Keys    *Keys
	Clients Clients
	Tokens  TokenIssuer
	// Issuer is the provider's issuer URL, named in introspection answers.
	Issuer string
	// Log records failures that are not the caller's.
	Log *slog.Logger
}

// Introspection answers RFC 7662 §2.2 for a token shaped like an API
// key: active only for the client that asks, if the key is its own (RFC
// 7662 §4: a client learns nothing of another's credentials), with the
// key's wallet, scopes and ID. The caller authenticates as for tokens.
func (e *Endpoints) Introspection(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := r.Form.Get("token")
		if !Shaped(token) {
			next.ServeHTTP(w, r)
			return
		}
		caller, err := e.authenticateClient(r, false)
		if err != nil {
			httpapi.WriteOAuth(w, r, e.Log, err, false)
			return
		}
		a, err := e.Keys.Check(r.Context(), token, caller.ID, "introspection")
		switch {
		case errors.Is(err, ErrInactive):
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"active": false})
		case err != nil:
			httpapi.WriteOAuth(w, r, e.Log, err, false)
		default:
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{
				"active": true, "sub": a.Subject, claims.ClaimAccountAddress: siwe.AccountAddress(a.Subject), "scope": strings.Join(a.Scopes, " "),
				"client_id": a.ClientID, ClaimAPIKeyID: a.ID, "token_type": "api_key", "iss": e.Issuer,
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
func (e *Endpoints) authenticateClient(r *http.Request, public bool) (*clients.Client, error) {
	creds := httpapi.CredentialsFrom(r, r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"))
	id := creds.ID
	if !creds.Present {
		id = r.PostForm.Get("client_id")
	}
	if id == "" {
		return nil, errClientAuth
	}
	cl, err := e.Clients.Get(r.Context(), id)
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

// Exchange answers token exchange requests (RFC 8693 §2) at the
// token endpoint and hands every other grant to zitadel.
func (e *Endpoints) Exchange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostForm.Get("grant_type") != string(oidc.GrantTypeTokenExchange) {
			next.ServeHTTP(w, r)
			return
		}
		resp, err := e.exchange(r)
		if err != nil {
			httpapi.WriteOAuth(w, r, e.Log, err, false)
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
func (e *Endpoints) exchange(r *http.Request) (*oidc.TokenExchangeResponse, error) {
	cl, err := e.authenticateClient(r, true)
	if err != nil {
		return nil, err
	}
	if err := checkExchange(r.PostForm, cl.ID); err != nil {
		return nil, err
	}
	a, err := e.Keys.Check(r.Context(), r.PostForm.Get("subject_token"), cl.ID, "exchange")
	if errors.Is(err, ErrInactive) {
		// RFC 8693 §2.2.2: an invalid subject_token is invalid_request.
		return nil, oidc.ErrInvalidRequest().WithDescription("subject_token is not an active API key of this client")
	}
	if err != nil {
		return nil, err
	}
	scopes, err := Narrow(a, strings.Fields(r.PostForm.Get("scope")))
	if err != nil {
		return nil, err
	}
	token, ttl, err := e.Tokens.IssueForKey(r.Context(), a, scopes)
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
	case f.Get("subject_token_type") != TokenType:
		return oidc.ErrInvalidRequest().WithDescription("subject_token_type must be " + TokenType + ": Signet exchanges API keys only")
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
