package op

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/httpapi"
)

// cachedDocument is a JSON answer computed once and served with an ETag.
type cachedDocument struct {
	body []byte
	etag string
}

func newCachedDocument(body []byte) cachedDocument {
	sum := sha256.Sum256(body)
	return cachedDocument{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// serveCached answers with body, or 304 when the client's copy is current.
func serveCached(w http.ResponseWriter, r *http.Request, body []byte, etag, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// buildDiscovery computes the discovery document once: zitadel's, trimmed to
// what Signet supports (code flow, refresh tokens), plus RFC 9207's flag.
func (s *Server) buildDiscovery() (cachedDocument, error) {
	ctx := zop.ContextWithIssuer(context.Background(), s.cfg.Issuer)
	d := zop.CreateDiscoveryConfig(ctx, s.provider, s.store)
	d.DeviceAuthorizationEndpoint = ""
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{"query"}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeTokenExchange}
	// The token, introspection and revocation endpoints take the same
	// client authentication (see introspectionAuth).
	d.IntrospectionEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost}
	d.RevocationEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	d.TokenEndpointAuthMethodsSupported = []oidc.AuthMethod{oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone}
	raw, err := json.Marshal(d)
	if err != nil {
		return cachedDocument{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return cachedDocument{}, err
	}
	doc["authorization_response_iss_parameter_supported"] = true
	body, err := json.Marshal(doc)
	if err != nil {
		return cachedDocument{}, err
	}
	return newCachedDocument(body), nil
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	serveCached(w, r, s.discovery.body, s.discovery.etag, "public, max-age=300")
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
	serveCached(w, r, body, etag, cc)
}
