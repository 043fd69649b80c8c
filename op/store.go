package op

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// store adapts Signet's database and registry to zitadel's op.Storage.
// Every error it returns is an *oidc.Error with a description that is safe
// to show; causes travel as the (unexported) parent and are only logged.
type store struct {
	db       *storage.DB
	clients  *clients.Registry
	keys     *KeyRing
	cfg      *Config
	now      func() time.Time
	loginURL func(string) string
	tokens   *tokenCrypto // signs the access tokens the store issues
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
// public clients (RFC 9700 §2.1.1), and no silent login (prompt=none),
// since every sign-in needs a fresh signature.
func (s *store) CreateAuthRequest(ctx context.Context, r *oidc.AuthRequest, _ string) (zop.AuthRequest, error) {
	c, err := s.client(ctx, r.ClientID)
	if err != nil {
		return nil, err
	}
	if r.CodeChallenge != "" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if r.CodeChallenge == "" && c.Public {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE with code_challenge_method S256 is required for public clients")
	}
	if slices.Contains(r.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("every sign-in needs a wallet signature")
	}
	bindingValue := bindingFromContext(ctx)
	if bindingValue == "" {
		return nil, serverError(errors.New("authorization request without a browser binding"))
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
		CreatedAt:           now,
		ExpiresAt:           now.Add(s.cfg.AuthRequestTTL),
	}
	if err := s.db.CreateAuthRequest(ctx, a); err != nil {
		return nil, serverError(err)
	}
	return authRequest{AuthRequest: a}, nil
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

// accessTTL is the client's access-token lifetime.
func (s *store) accessTTL(ctx context.Context, clientID string) (time.Duration, error) {
	c, err := s.clients.Get(ctx, clientID)
	if err != nil {
		return 0, err
	}
	if c.AccessTokenTTL > 0 {
		return c.AccessTokenTTL, nil
	}
	return s.cfg.AccessTokenTTL, nil
}

func (s *store) refreshTTL(ctx context.Context, clientID string) (time.Duration, error) {
	c, err := s.clients.Get(ctx, clientID)
	if err != nil {
		return 0, err
	}
	if c.RefreshTokenTTL > 0 {
		return c.RefreshTokenTTL, nil
	}
	return s.cfg.RefreshTokenTTL, nil
}

func (s *store) newAccessToken(ctx context.Context, r loginRequest) (*storage.Token, error) {
	l := r.login()
	if l == nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("sign-in not completed")
	}
	ttl, err := s.accessTTL(ctx, r.GetClientID())
	if err != nil {
		return nil, serverError(err)
	}
	now := s.now()
	return &storage.Token{
		ID:            siwe.OrderedID(now, random.Base64(18)),
		Kind:          storage.KindAccess,
		ClientID:      r.GetClientID(),
		Subject:       r.GetSubject(),
		Audience:      r.GetAudience(),
		Scopes:        r.GetScopes(),
		LoginID:       l.ID,
		AuthRequestID: r.authRequestID(),
		CreatedAt:     now,
		ExpiresAt:     now.Add(ttl),
	}, nil
}

// tokenWrite is what issuing tokens for r stores besides the tokens: the
// code it redeems, or, for a headless sign-in, its challenge and login.
func tokenWrite(r loginRequest, access, refresh *storage.Token) storage.TokenWrite {
	w := storage.TokenWrite{CodeOf: codeOf(r), Access: access, Refresh: refresh}
	if a, ok := r.(authRequest); ok && a.challenge != "" {
		w.Challenge, w.Login = a.challenge, a.Login
	}
	return w
}

// codeOf names the authorization request whose code a token request
// redeems; other requests redeem none.
func codeOf(r loginRequest) string {
	if a, ok := r.(authRequest); ok {
		return a.ID
	}
	return ""
}

// tokenStoreError translates a failed token write; a code redeemed twice
// (say, by two concurrent exchanges) revokes what the first one got. A
// challenge redeemed twice got nothing the second time.
func (s *store) tokenStoreError(ctx context.Context, r loginRequest, err error) error {
	if errors.Is(err, siwe.ErrChallengeUsed) {
		return siwe.ErrChallengeReused
	}
	if errors.Is(err, storage.ErrReused) {
		if rerr := s.db.RevokeAuthRequestTokens(ctx, codeOf(r)); rerr != nil {
			return serverError(rerr)
		}
		return oidc.ErrInvalidGrant().WithDescription("authorization code was already used")
	}
	return serverError(err)
}

func (s *store) CreateAccessToken(ctx context.Context, req zop.TokenRequest) (string, time.Time, error) {
	r, ok := req.(loginRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	t, err := s.newAccessToken(ctx, r)
	if err != nil {
		return "", time.Time{}, err
	}
	if err := s.db.CreateTokens(ctx, tokenWrite(r, t, nil)); err != nil {
		return "", time.Time{}, s.tokenStoreError(ctx, r, err)
	}
	s.tokens.expect(accessTokenClaims(zop.IssuerFromContext(ctx), r, t.ID, t.ExpiresAt))
	return t.ID, t.ExpiresAt, nil
}

// CreateAccessAndRefreshTokens issues a new refresh family, or rotates one:
// the presented refresh token is consumed in the same transaction that
// stores its successor.
func (s *store) CreateAccessAndRefreshTokens(ctx context.Context, req zop.TokenRequest, current string) (string, string, time.Time, error) {
	r, ok := req.(loginRequest)
	if !ok {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType()
	}
	access, err := s.newAccessToken(ctx, r)
	if err != nil {
		return "", "", time.Time{}, err
	}
	ttl, err := s.refreshTTL(ctx, r.GetClientID())
	if err != nil {
		return "", "", time.Time{}, serverError(err)
	}
	value := "srt_" + random.Base64(32)
	refresh := *access
	refresh.ID = hashToken(value)
	refresh.Kind = storage.KindRefresh
	refresh.ExpiresAt = access.CreatedAt.Add(ttl)
	access.RefreshTokenID = refresh.ID
	if current == "" {
		refresh.FamilyID = refresh.ID
		access.FamilyID = refresh.ID
		if err := s.db.CreateTokens(ctx, tokenWrite(r, access, &refresh)); err != nil {
			return "", "", time.Time{}, s.tokenStoreError(ctx, r, err)
		}
		s.tokens.expect(accessTokenClaims(zop.IssuerFromContext(ctx), r, access.ID, access.ExpiresAt))
		return access.ID, value, access.ExpiresAt, nil
	}
	rr, ok := req.(*refreshRequest)
	if !ok {
		return "", "", time.Time{}, oidc.ErrInvalidGrant()
	}
	refresh.FamilyID = rr.token.FamilyID
	access.FamilyID = rr.token.FamilyID
	err = s.db.RotateRefreshToken(ctx, hashToken(current), access, &refresh)
	switch {
	case errors.Is(err, storage.ErrReused), errors.Is(err, storage.ErrNotFound):
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token was already used")
	case err != nil:
		return "", "", time.Time{}, serverError(err)
	}
	s.tokens.expect(accessTokenClaims(zop.IssuerFromContext(ctx), r, access.ID, access.ExpiresAt))
	return access.ID, value, access.ExpiresAt, nil
}

// TokenRequestByRefreshToken finds an active refresh token. Presenting a
// used one revokes its whole family (OAuth 2.0 Security BCP §4.14.2).
func (s *store) TokenRequestByRefreshToken(ctx context.Context, value string) (zop.RefreshTokenRequest, error) {
	t, err := s.db.TokenByID(ctx, hashToken(value))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && t.Kind != storage.KindRefresh) {
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if !t.UsedAt.IsZero() {
		if err := s.db.RevokeFamily(ctx, t.FamilyID); err != nil {
			return nil, serverError(err)
		}
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token was already used")
	}
	if !t.Active(s.now()) {
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token expired or revoked")
	}
	return &refreshRequest{token: t, scopes: t.Scopes}, nil
}

// TerminateSession revokes what the client holds for the subject: Signet
// keeps no browser session, so the tokens are the session.
func (s *store) TerminateSession(ctx context.Context, userID, clientID string) error {
	if err := s.db.RevokeSubjectTokens(ctx, userID, clientID); err != nil {
		return serverError(err)
	}
	return nil
}

// RevokeToken revokes an access token (by ID) or a refresh token (by ID,
// after GetRefreshTokenInfo); unknown tokens are not an error (RFC 7009 §2.2).
func (s *store) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	if userID == "" {
		return nil // neither a refresh token nor a valid access token of ours
	}
	t, err := s.db.TokenByID(ctx, tokenOrID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return serverError(err)
	}
	if t.ClientID != clientID {
		// RFC 7009 §2.1: the token must have been issued to the caller.
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	if err := s.db.RevokeToken(ctx, t.ID); err != nil {
		return serverError(err)
	}
	return nil
}

func (s *store) GetRefreshTokenInfo(ctx context.Context, clientID, value string) (string, string, error) {
	if !strings.HasPrefix(value, "srt_") {
		return "", "", zop.ErrInvalidRefreshToken
	}
	t, err := s.db.TokenByID(ctx, hashToken(value))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && t.Kind != storage.KindRefresh) {
		return "", "", zop.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", serverError(err)
	}
	return t.Subject, t.ID, nil
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

// SetUserinfoFromScopes is deprecated in zitadel; SetUserinfoFromRequest does the work.
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *store) SetUserinfoFromRequest(_ context.Context, u *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	r, ok := req.(loginRequest)
	if !ok || r.login() == nil {
		return oidc.ErrInvalidGrant().WithDescription("sign-in not completed")
	}
	setUserinfo(u, r.login(), scopes)
	return nil
}

// activeToken loads an unrevoked, unexpired access token.
func (s *store) activeToken(ctx context.Context, id, subject string) (*storage.Token, error) {
	t, err := s.db.TokenByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("token is not active")
	}
	if err != nil {
		return nil, serverError(err)
	}
	if t.Kind != storage.KindAccess || t.Subject != subject || !t.Active(s.now()) {
		return nil, oidc.ErrInvalidRequest().WithDescription("token is not active")
	}
	return t, nil
}

func (s *store) SetUserinfoFromToken(ctx context.Context, u *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	setUserinfo(u, t.Login, t.Scopes)
	return nil
}

// SetIntrospectionFromToken answers RFC 7662 for an active access token; the
// caller must be a client the token was issued for.
func (s *store) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.activeToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	if !slices.Contains(t.Audience, clientID) && t.ClientID != clientID {
		return oidc.ErrInvalidRequest().WithDescription("token is not active")
	}
	resp.Scope = t.Scopes
	resp.ClientID = t.ClientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(t.ExpiresAt)
	resp.IssuedAt = oidc.FromTime(t.CreatedAt)
	resp.NotBefore = oidc.FromTime(t.CreatedAt)
	resp.Subject = t.Subject
	resp.Audience = t.Audience
	resp.Issuer = s.cfg.Issuer
	resp.JWTID = t.ID
	resp.Username = t.Login.Address
	u := new(oidc.UserInfo)
	setUserinfo(u, t.Login, t.Scopes)
	resp.SetUserInfo(u)
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
