package resource

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Verify checks a JWT access token offline, as RFC 9068 §4 asks: RS256
// only, typ at+jwt, signed by the JWKS key its kid names, then its claims
// (checkClaims). It cannot see a revocation; [Verifier.Introspect] can.
func (v *Verifier) Verify(ctx context.Context, token string) (*Principal, error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, invalid("the token is malformed or not signed with RS256", err)
	}
	h := tok.Headers[0]
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t != "at+jwt" && t != "application/at+jwt" { // so an ID token is no access token
		return nil, invalid("the token is not an access token (typ is not at+jwt)", nil)
	}
	if h.KeyID == "" { // SPEC: kid in every token header
		return nil, invalid("the token names no signing key (kid)", nil)
	}
	key, err := v.key(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	var c jwt.Claims
	var extra struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		APIKeyID string `json:"api_key_id"`
	}
	if err := tok.Claims(key, &c, &extra); err != nil {
		return nil, invalid("the token's signature is invalid", err)
	}
	if err := v.checkClaims(c); err != nil {
		return nil, err
	}
	return newPrincipal(c.Subject, extra.ClientID, extra.Scope, extra.APIKeyID, c.Expiry.Time())
}

// claimWords describe go-jose's claim errors.
var claimWords = map[error]string{
	jwt.ErrInvalidIssuer:     "the token was issued by another issuer",
	jwt.ErrInvalidAudience:   "the token is not meant for this service (aud)",
	jwt.ErrExpired:           "the token has expired",
	jwt.ErrNotValidYet:       "the token is not valid yet (nbf)",
	jwt.ErrIssuedInTheFuture: "the token was issued in the future (iat)",
}

// checkClaims applies RFC 9068 §4: iss exactly the issuer, aud naming one
// of the audiences, exp present (RFC 9068 §2.2) and not passed, nbf and iat
// not in the future, each within the skew (RFC 7519 §4.1.4, §4.1.5).
func (v *Verifier) checkClaims(c jwt.Claims) error {
	if c.Expiry == nil {
		return invalid("the token has no expiry", nil)
	}
	err := c.ValidateWithLeeway(jwt.Expected{Issuer: v.cfg.Issuer, AnyAudience: v.cfg.Audiences, Time: v.cfg.Now()}, v.cfg.Skew)
	if err != nil {
		return invalid(cmp.Or(claimWords[err], "the token's claims are invalid"), err)
	}
	return nil
}

// key returns the public key kid names. A kid missing from the cached JWKS,
// or a JWKS older than KeysMaxAge, fetches it again, but at most once per
// RefetchInterval; while a fetch fails, the keys fetched before still serve.
func (v *Verifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := v.cachedKey(kid, true); ok {
		return k, nil
	}
	v.fetchMu.Lock() // callers that need a fetch wait for the one under way
	defer v.fetchMu.Unlock()
	if now := v.cfg.Now(); now.Sub(v.fetchedAt) >= v.cfg.RefetchInterval {
		var keys map[string]*rsa.PublicKey
		keys, v.fetchErr = v.fetchKeys(ctx)
		v.fetchedAt = now
		if v.fetchErr == nil {
			v.mu.Lock()
			v.keys, v.loadedAt = keys, now
			v.mu.Unlock()
		}
	}
	if k, ok := v.cachedKey(kid, false); ok {
		return k, nil
	}
	if v.fetchErr != nil {
		return nil, unavailable(v.fetchErr)
	}
	return nil, invalid("the token's signing key is unknown", nil)
}

// cachedKey returns kid's key, only from a JWKS younger than KeysMaxAge if fresh.
func (v *Verifier) cachedKey(kid string, fresh bool) (*rsa.PublicKey, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.keys[kid]
	return k, ok && (!fresh || v.cfg.Now().Sub(v.loadedAt) < v.cfg.KeysMaxAge)
}

// fetchKeys reads the JWKS at the discovered jwks_uri and keeps its RS256
// signing keys by kid (RFC 7517 §4.2, §4.4, §4.5).
func (v *Verifier) fetchKeys(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	d, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := v.fetch(ctx, d.JWKSURI, nil, &set); err != nil {
		return nil, err
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if pub, ok := k.Key.(*rsa.PublicKey); ok && k.KeyID != "" && k.Use != "enc" && (k.Algorithm == "" || k.Algorithm == "RS256") {
			keys[k.KeyID] = pub
		}
	}
	return keys, nil
}

type discovery struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	Introspection string `json:"introspection_endpoint"`
}

// discover reads Signet's discovery document once (OpenID Connect Discovery
// 1.0 §4); its issuer must be ours exactly (§4.3).
func (v *Verifier) discover(ctx context.Context) (*discovery, error) {
	v.docMu.Lock()
	defer v.docMu.Unlock()
	if v.doc != nil {
		return v.doc, nil
	}
	var d discovery
	if err := v.fetch(ctx, strings.TrimSuffix(v.cfg.Issuer, "/")+"/.well-known/openid-configuration", nil, &d); err != nil {
		return nil, err
	}
	if d.Issuer != v.cfg.Issuer {
		return nil, fmt.Errorf("discovery names issuer %q, not %q", d.Issuer, v.cfg.Issuer)
	}
	v.doc = &d
	return v.doc, nil
}

// fetch GETs u, or POSTs form to it as this client (RFC 7662 §2.1 with
// RFC 6749 §2.3.1: ID and secret form-encoded, then HTTP Basic), and decodes
// a 200 JSON answer of at most 1 MiB into out. u must pass checkURL.
func (v *Verifier) fetch(ctx context.Context, u string, form url.Values, out any) error {
	if err := checkURL(u); err != nil {
		return err
	}
	method, body := http.MethodGet, io.Reader(nil)
	if form != nil {
		method, body = http.MethodPost, strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(v.cfg.ClientID), url.QueryEscape(v.cfg.ClientSecret))
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", req.Method, u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
