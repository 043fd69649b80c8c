package op

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/httpapi"
)

// buildDiscovery computes the discovery document once: zitadel's, trimmed to
// what Signet supports (code flow, refresh tokens), plus RFC 9207's flag.
func (s *Server) buildDiscovery() (httpapi.Cached, error) {
	ctx := zop.ContextWithIssuer(context.Background(), s.cfg.Issuer)
	d := zop.CreateDiscoveryConfig(ctx, s.provider, s.store)
	d.DeviceAuthorizationEndpoint = ""
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{"query"}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeTokenExchange}
	// The token, introspection and revocation endpoints take the same
	// client authentication (see httpapi.FormCredentialsAsBasic).
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	raw, err := json.Marshal(d)
	if err != nil {
		return httpapi.Cached{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return httpapi.Cached{}, err
	}
	doc["authorization_response_iss_parameter_supported"] = true
	body, err := json.Marshal(doc)
	if err != nil {
		return httpapi.Cached{}, err
	}
	return httpapi.NewCached(body), nil
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	s.discovery.Serve(w, r, "public, max-age=300")
}

// handleJWKS serves the published keys. Caches may keep them for half the
// publish delay, so a key announced ahead of use reaches every cache before
// it signs; with no delay they must revalidate (cheap, thanks to the ETag).
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	body, etag, err := s.keys.JWKS(r.Context())
	if err != nil {
		httpapi.WriteOAuth(w, r, s.log, err, false)
		return
	}
	cc := "no-cache"
	if maxAge := min(s.cfg.KeyPublishDelay/2, time.Hour); maxAge >= time.Second {
		cc = "public, max-age=" + strconv.Itoa(int(maxAge.Seconds()))
	}
	httpapi.ServeCached(w, r, body, etag, cc)
}
