package op

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
)

// client adapts a registered client to zitadel's Client.
type client struct {
	*clients.Client
	loginURL   func(id string) string
	idTokenTTL time.Duration
}

var _ zop.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }
func (c *client) LoginURL(id string) string        { return c.loginURL(id) }

// AccessTokenType is "bearer" for zitadel: it asks the provider's Crypto
// for the token value, which answers with a JWT typed at+jwt (see
// tokenCrypto).
func (c *client) AccessTokenType() zop.AccessTokenType { return zop.AccessTokenTypeBearer }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(s string) bool         { return c.ScopeAllowed(s) }
func (c *client) ClockSkew() time.Duration             { return 0 }

// IDTokenUserinfoClaimsAssertion puts profile claims in the ID token, as
// Keycloak and Auth0 do, so apps need no userinfo round trip.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

// ApplicationType makes public clients "native", which gives them RFC 8252
// §7.3 loopback redirects on any port, and confidential ones "web".
func (c *client) ApplicationType() zop.ApplicationType {
	if c.Public {
		return zop.ApplicationTypeNative
	}
	return zop.ApplicationTypeWeb
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

func (c *client) IDTokenLifetime() time.Duration {
	if c.IDTokenTTL > 0 {
		return c.IDTokenTTL
	}
	return c.idTokenTTL
}

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
