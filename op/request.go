package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/storage"
)

// authRequest adapts a stored authorization request to zitadel's AuthRequest.
type authRequest struct {
	*storage.AuthRequest
	// challenge, for a headless sign-in, is the ID of the SIWE challenge it
	// redeems: the challenge is consumed, and the login stored, in the
	// transaction that stores the tokens.
	challenge string
}

var _ zop.AuthRequest = authRequest{}

func (a authRequest) GetID() string                      { return a.ID }
func (a authRequest) GetACR() string                     { return "" }
func (a authRequest) GetAudience() []string              { return []string{a.ClientID} }
func (a authRequest) GetClientID() string                { return a.ClientID }
func (a authRequest) GetNonce() string                   { return a.Nonce }
func (a authRequest) GetRedirectURI() string             { return a.RedirectURI }
func (a authRequest) GetScopes() []string                { return a.Scopes }
func (a authRequest) GetState() string                   { return a.State }
func (a authRequest) Done() bool                         { return a.Login != nil }
func (a authRequest) login() *storage.Login              { return a.Login }
func (a authRequest) authRequestID() string              { return a.ID }
func (a authRequest) GetResponseType() oidc.ResponseType { return oidc.ResponseType(a.ResponseType) }
func (a authRequest) GetResponseMode() oidc.ResponseMode { return oidc.ResponseMode(a.ResponseMode) }

func (a authRequest) GetAMR() []string {
	if a.Login == nil {
		return nil
	}
	return a.Login.AMR
}

func (a authRequest) GetAuthTime() time.Time {
	if a.Login == nil {
		return time.Time{}
	}
	return a.Login.AuthTime
}

func (a authRequest) GetSubject() string {
	if a.Login == nil {
		return ""
	}
	return a.Login.Subject
}

func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.CodeChallenge, Method: oidc.CodeChallengeMethod(a.CodeChallengeMethod)}
}

// refreshRequest adapts a stored refresh token to zitadel's RefreshTokenRequest.
type refreshRequest struct {
	token  *storage.Token
	scopes []string
}

var _ zop.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string            { return r.token.Login.AMR }
func (r *refreshRequest) GetAudience() []string       { return r.token.Audience }
func (r *refreshRequest) GetAuthTime() time.Time      { return r.token.Login.AuthTime }
func (r *refreshRequest) GetClientID() string         { return r.token.ClientID }
func (r *refreshRequest) GetScopes() []string         { return r.scopes }
func (r *refreshRequest) GetSubject() string          { return r.token.Subject }
func (r *refreshRequest) SetCurrentScopes(s []string) { r.scopes = s }
func (r *refreshRequest) login() *storage.Login       { return r.token.Login }
func (r *refreshRequest) authRequestID() string       { return r.token.AuthRequestID }

// loginRequest is any token request that knows the login behind it.
type loginRequest interface {
	zop.TokenRequest
	GetClientID() string
	login() *storage.Login
	authRequestID() string
}
