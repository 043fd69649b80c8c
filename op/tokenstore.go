package op

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/claims"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// The store's token half: access and refresh tokens (issue, rotate,
// revoke), and what userinfo and introspection answer about them.

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

// SetUserinfoFromScopes is deprecated in zitadel; SetUserinfoFromRequest does the work.
func (s *store) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

func (s *store) SetUserinfoFromRequest(_ context.Context, u *oidc.UserInfo, req zop.IDTokenRequest, scopes []string) error {
	r, ok := req.(loginRequest)
	if !ok || r.login() == nil {
		return oidc.ErrInvalidGrant().WithDescription("sign-in not completed")
	}
	claims.SetUserinfo(u, r.login(), scopes)
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
	claims.SetUserinfo(u, t.Login, t.Scopes)
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
	claims.SetUserinfo(u, t.Login, t.Scopes)
	resp.SetUserInfo(u)
	return nil
}
