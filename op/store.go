package op

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/authorize"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/storage"
)

// store adapts Signet's database and registry to zitadel's op.Storage.
// Every error it returns is an *oidc.Error with a description that is safe
// to show; causes travel as the (unexported) parent and are only logged.
type store struct {
	db       *storage.DB
	clients  *clients.Registry
	keys     *keyring.Ring
	cfg      *Config
	now      func() time.Time
	loginURL func(string) string
	tokens   *tokenCrypto // signs the access tokens the store issues
	// session finds the browser's single sign-on login (sessions.Sessions.Login).
	session func(ctx context.Context, bindingHash string, maxAge *int64) (*storage.Login, bool)
}

var (
	_ zop.Storage                   = (*store)(nil)
	_ zop.CanSetUserinfoFromRequest = (*store)(nil)
)

// serverError hides err from the client and keeps it for the log.
func serverError(err error) *oidc.Error {
	return oidc.ErrServerError().WithDescription("internal error").WithParent(err)
}

// hashToken is the stored ID of a bearer secret (code or refresh token).
func hashToken(v string) string {
	h := sha256.Sum256([]byte(v))
	return hex.EncodeToString(h[:])
}

func (s *store) client(ctx context.Context, id string) (*client, error) {
	c, err := s.clients.Get(ctx, id)
	if err != nil {
		if errors.Is(err, clients.ErrClientNotFound) {
			return nil, oidc.ErrInvalidClient().WithDescription("unknown client").WithParent(err)
		}
		return nil, serverError(err)
	}
	return &client{Client: c, loginURL: s.loginURL, idTokenTTL: s.cfg.IDTokenTTL}, nil
}

// CreateAuthRequest stores an authorization request after the checks
// zitadel leaves to us (the client and redirect URI are checked before
// zitadel sees the request, see authorizeEndpoint): PKCE S256 only (RFC 7636 §4.2; "plain" and a
// missing method, which defaults to plain, are refused), PKCE required for
// public clients (RFC 9700 §2.1.1). prompt=none completes at once with the
// browser's single sign-on session, or answers login_required.
func (s *store) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (zop.AuthRequest, error) {
	c, err := s.client(ctx, r.ClientID)
	if err != nil {
		return nil, err
	}
	if err := checkPKCE(c, r); err != nil {
		return nil, err
	}
	bindingValue := authorize.BindingFromContext(ctx)
	if bindingValue == "" {
		return nil, serverError(errors.New("authorization request without a browser binding"))
	}
	var maxAge *int64
	if r.MaxAge != nil {
		v := int64(*r.MaxAge)
		maxAge = &v
	}
	silent, err := s.silentLogin(ctx, r, binding.Hash(bindingValue), maxAge)
	if err != nil {
		return nil, err
	}
	scopes := make([]string, 0, len(r.Scopes))
	for _, sc := range r.Scopes {
		if c.ScopeAllowed(sc) {
			scopes = append(scopes, sc)
		}
	}
	now := s.now()
	a := &storage.AuthRequest{
		ID:                  random.Base64(24),
		ClientID:            c.ID,
		RedirectURI:         r.RedirectURI,
		State:               r.State,
		Nonce:               r.Nonce,
		ResponseType:        string(r.ResponseType),
		ResponseMode:        string(r.ResponseMode),
		Scopes:              scopes,
		Prompt:              r.Prompt,
		LoginHint:           r.LoginHint,
		CodeChallenge:       r.CodeChallenge,
		CodeChallengeMethod: string(r.CodeChallengeMethod),
		BindingHash:         binding.Hash(bindingValue),
		MaxAge:              maxAge,
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.cfg.AuthRequestTTL),
	}
	if err := s.db.CreateAuthRequest(ctx, a); err != nil {
		return nil, serverError(err)
	}
	if silent != nil {
		// zitadel sends the browser to the login page, which passes a
		// completed request on to the callback.
		if err := s.db.AttachLogin(ctx, a.ID, silent.ID); err != nil {
			return nil, serverError(err)
		}
		a.Login = silent
	}
	return authRequest{AuthRequest: a}, nil
}

// silentLogin is, for prompt=none, the login of the browser's single
// sign-on session, or login_required (OpenID Connect Core §3.1.2.1); nil
// for other prompts.
func (s *store) silentLogin(ctx context.Context, r *oidc.AuthRequest, bindingHash string, maxAge *int64) (*storage.Login, error) {
	if !slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, nil
	}
	l, ok := s.session(ctx, bindingHash, maxAge)
	if !ok {
		return nil, oidc.ErrLoginRequired().WithDescription("no single sign-on session: this sign-in needs a wallet signature")
	}
	return l, nil
}

// checkPKCE applies PKCE S256 only (RFC 7636 §4.2: "plain", and a missing
// method, which defaults to plain, are refused) and PKCE for public
// clients (RFC 9700 §2.1.1).
func checkPKCE(c *client, r *oidc.AuthRequest) error {
	if r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if r.CodeChallenge == "" && c.Public {
		return oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required for public clients")
	}
	return nil
}

func (s *store) AuthRequestByID(ctx context.Context, id string) (zop.AuthRequest, error) {
	a, err := s.db.AuthRequestByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown or expired authorization request")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if !s.now().Before(a.ExpiresAt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("authorization request expired")
	}
	return authRequest{AuthRequest: a}, nil
}

// AuthRequestByCode finds the request of an unused code; a reused code
// revokes what was issued from it (RFC 6749 §4.1.2). The code is consumed
// when the tokens are stored, so a request that fails client
// authentication or PKCE does not burn it.
func (s *store) AuthRequestByCode(ctx context.Context, code string) (zop.AuthRequest, error) {
	a, err := s.db.AuthRequestByCode(ctx, hashToken(code))
	switch {
	case errors.Is(err, storage.ErrReused):
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code was already used")
	case errors.Is(err, storage.ErrNotFound):
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid or expired authorization code")
	case err != nil:
		return nil, serverError(err)
	}
	return authRequest{AuthRequest: a}, nil
}

// SaveAuthCode attaches the code to a completed request. A request gets one
// code: a second callback for it (a reload, or anyone racing the browser)
// is refused as invalid_request and issues nothing.
func (s *store) SaveAuthCode(ctx context.Context, id, code string) error {
	err := s.db.SaveAuthCode(ctx, id, hashToken(code), s.now().Add(s.cfg.CodeTTL))
	if errors.Is(err, storage.ErrNotFound) {
		return oidc.ErrInvalidRequest().WithDescription("this sign-in was already completed; start again from the app")
	}
	if err != nil {
		return serverError(err)
	}
	return nil
}

func (s *store) DeleteAuthRequest(ctx context.Context, id string) error {
	if id == "" {
		return nil // a headless sign-in has no stored authorization request
	}
	if err := s.db.DeleteAuthRequest(ctx, id); err != nil {
		return serverError(err)
	}
	return nil
}

func (s *store) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	k, err := s.keys.SigningKey(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	return k, nil
}

func (s *store) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *store) KeySet(ctx context.Context) ([]zop.Key, error) {
	ks, err := s.keys.KeySet(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	return ks, nil
}

func (s *store) GetClientByClientID(ctx context.Context, id string) (zop.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *store) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.clients.Get(ctx, id)
	if err != nil && !errors.Is(err, clients.ErrClientNotFound) {
		return serverError(err)
	}
	// One answer for an unknown client and a wrong secret, so IDs cannot be probed.
	if err != nil || c.Public || !c.CheckSecret(secret) {
		return oidc.ErrInvalidClient().WithDescription("client authentication failed")
	}
	return nil
}

func (s *store) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, oidc.ErrInvalidRequest().WithDescription("unsupported token request")
}

func (s *store) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, oidc.ErrUnauthorizedClient().WithDescription("JWT client authentication is not supported")
}

func (s *store) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

func (s *store) Health(ctx context.Context) error {
	return s.db.Ping(ctx)
}
