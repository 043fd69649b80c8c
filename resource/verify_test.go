package resource

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/internal/clocktest"
)

// newVerifier is a Verifier of s's tokens for aud on clock.
func newVerifier(t *testing.T, s *signet, clock *clocktest.Clock, aud string, mutate ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: s.Issuer, Audiences: []string{aud}, Now: clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSignetAccessToken: a real access token from Signet's headless flow
// passes, and the handler finds the Principal in its context.
func TestSignetAccessToken(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	access, _, address := s.login(t, id, secret, "openid profile")
	clock := clocktest.New(time.Now())
	v := newVerifier(t, s, clock, id)

	w := call(v.Require("profile"), bearer(access)...)
	if w.Code != http.StatusOK {
		t.Fatalf("valid token: %d %s", w.Code, w.Body)
	}
	var p Principal
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Subject != "eip155:1:"+address || p.Address != address || p.ClientID != id || !p.HasScope("openid") || !p.HasScope("profile") || p.APIKeyID != "" {
		t.Fatalf("principal = %+v", p)
	}
	if d := time.Until(p.Expiry); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expiry in %s, want 1h", d)
	}
}

// TestSignetTokenRefusals: every check of Verify refuses a token of the
// real Signet, or one signed with its real key, with 401 invalid_token and
// a description naming the check; tokens that pass every check show the
// refusals come from the check named, not from the way they were made.
func TestSignetTokenRefusals(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	other, otherSecret := s.addClient(t)
	access, idToken, address := s.login(t, id, secret, "openid")
	otherAccess, _, _ := s.login(t, other, otherSecret, "openid")
	key, kid := s.signingKey(t)
	now := time.Now()
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": s.Issuer, "aud": []string{id}, "sub": "eip155:1:" + address, "client_id": id, "scope": "openid",
			"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "t1"}
		if change != nil {
			change(c)
		}
		return c
	}
	good := func(change func(map[string]any)) string {
		return mint(t, key, jose.RS256, kid, "at+jwt", claims(change))
	}
	header, payload, sig := split(access)
	cases := []struct {
		name, token, want string
	}{
		{"another client's token (aud)", otherAccess, "not meant for this service"},
		{"tampered payload", header + "." + reencode(t, payload, "scope", "openid profile admin") + "." + sig, "signature is invalid"},
		{"tampered signature", header + "." + payload + "." + flip(sig), "signature is invalid"},
		{"alg none", b64(`{"alg":"none","typ":"at+jwt","kid":"`+kid+`"}`) + "." + payload + ".", "not signed with RS256"},
		{"PS256 with Signet's own key", mint(t, key, jose.PS256, kid, "at+jwt", claims(nil)), "not signed with RS256"},
		{"ID token as access token", idToken, "not an access token"},
		{"typ JWT", mint(t, key, jose.RS256, kid, "JWT", claims(nil)), "not an access token"},
		{"no typ", mint(t, key, jose.RS256, kid, "", claims(nil)), "not an access token"},
		{"no kid", mint(t, key, jose.RS256, "", "at+jwt", claims(nil)), "names no signing key"},
		{"unknown kid", mint(t, key, jose.RS256, "not-a-kid", "at+jwt", claims(nil)), "signing key is unknown"},
		{"another issuer", good(func(c map[string]any) { c["iss"] = s.Issuer + "/other" }), "another issuer"},
		{"no aud", good(func(c map[string]any) { delete(c, "aud") }), "not meant for this service"},
		{"no exp", good(func(c map[string]any) { delete(c, "exp") }), "no expiry"},
		{"expired beyond the skew", good(func(c map[string]any) { c["exp"] = now.Add(-31 * time.Second).Unix() }), "expired"},
		{"nbf beyond the skew", good(func(c map[string]any) { c["nbf"] = now.Add(31 * time.Second).Unix() }), "not valid yet"},
		{"iat beyond the skew", good(func(c map[string]any) { c["iat"] = now.Add(31 * time.Second).Unix() }), "issued in the future"},
		{"sub not CAIP-10", good(func(c map[string]any) { c["sub"] = address }), "not a CAIP-10 account"},
		{"no client_id", good(func(c map[string]any) { delete(c, "client_id") }), "names no client"},
	}
	v := newVerifier(t, s, clocktest.New(now), id)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			refused(t, call(v.Require(), bearer(c.token)...), http.StatusUnauthorized, CodeInvalidToken, c.want)
		})
	}
	passes := map[string]string{
		"Signet's token":                access,
		"minted with every claim right": good(nil),
		"typ application/at+jwt":        mint(t, key, jose.RS256, kid, "application/at+jwt", claims(nil)),
		"aud a string":                  good(func(c map[string]any) { c["aud"] = id }),
		"exp passed within the skew":    good(func(c map[string]any) { c["exp"] = now.Add(-20 * time.Second).Unix() }),
		"nbf and iat ahead within the skew": good(func(c map[string]any) {
			c["nbf"], c["iat"] = now.Add(20*time.Second).Unix(), now.Add(20*time.Second).Unix()
		}),
		"aud naming this client and another": good(func(c map[string]any) { c["aud"] = []string{other, id} }),
	}
	for name, token := range passes {
		if w := call(v.Require(), bearer(token)...); w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", name, w.Code, w.Body)
		}
	}
}

// TestSignetTokenExpires: Signet's token stops verifying once its hour
// and the skew have passed on the resource server's clock.
func TestSignetTokenExpires(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	access, _, _ := s.login(t, id, secret, "openid")
	clock := clocktest.New(time.Now())
	v := newVerifier(t, s, clock, id)
	if w := call(v.Require(), bearer(access)...); w.Code != http.StatusOK {
		t.Fatalf("fresh token: %d %s", w.Code, w.Body)
	}
	clock.Advance(time.Hour + 20*time.Second)
	if w := call(v.Require(), bearer(access)...); w.Code != http.StatusOK {
		t.Fatalf("expired within the skew: %d %s", w.Code, w.Body)
	}
	clock.Advance(15 * time.Second)
	refused(t, call(v.Require(), bearer(access)...), http.StatusUnauthorized, CodeInvalidToken, "expired")
}

// TestSignetKeyRotation: after Signet rotates its key, a token with the new
// kid fetches the JWKS again and verifies; the old key's tokens still
// verify; unknown kids fetch at most once per RefetchInterval.
func TestSignetKeyRotation(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	oldToken, _, _ := s.login(t, id, secret, "openid")
	clock := clocktest.New(time.Now())
	v := newVerifier(t, s, clock, id)
	ok := func(label, token string) {
		t.Helper()
		if w := call(v.Require(), bearer(token)...); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", label, w.Code, w.Body)
		}
	}
	ok("before rotation", oldToken)
	if got := s.jwksHits.Load(); got != 1 {
		t.Fatalf("%d JWKS fetches for the first token, want 1", got)
	}
	if _, err := s.Keys.Rotate(t.Context(), 0, time.Hour); err != nil {
		t.Fatal(err)
	}
	newToken, _, _ := s.login(t, id, secret, "openid")
	if kidOf(t, newToken) == kidOf(t, oldToken) {
		t.Fatal("rotation did not change the kid")
	}
	// A fetch a moment ago: the new kid waits for the interval.
	refused(t, call(v.Require(), bearer(newToken)...), http.StatusUnauthorized, CodeInvalidToken, "signing key is unknown")
	if got := s.jwksHits.Load(); got != 1 {
		t.Fatalf("%d JWKS fetches within the interval, want 1", got)
	}
	clock.Advance(11 * time.Second)
	ok("new key after one refetch", newToken)
	ok("old key still published", oldToken)
	if got := s.jwksHits.Load(); got != 2 {
		t.Fatalf("%d JWKS fetches, want 2", got)
	}
	// A flood of made-up kids costs one fetch per interval.
	clock.Advance(11 * time.Second)
	rogue, _ := rsa.GenerateKey(rand.Reader, 2048)
	for i := range 50 {
		kid := "rogue-" + strings.Repeat("x", i)
		token := mint(t, rogue, jose.RS256, kid, "at+jwt", map[string]any{"iss": s.Issuer, "aud": id, "exp": time.Now().Add(time.Hour).Unix()})
		refused(t, call(v.Require(), bearer(token)...), http.StatusUnauthorized, CodeInvalidToken, "signing key is unknown")
	}
	if got := s.jwksHits.Load(); got != 3 {
		t.Fatalf("%d JWKS fetches after a flood of 50 unknown kids, want 3", got)
	}
}

func split(jwt string) (string, string, string) {
	p := strings.Split(jwt, ".")
	return p[0], p[1], p[2]
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// reencode changes one claim of a JWT payload, leaving the signature as is.
func reencode(t *testing.T, payload, claim string, value any) string {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m[claim] = value
	out, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(out)
}

// flip changes the first byte of a base64url signature.
func flip(sig string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(sig)
	raw[0] ^= 0xff
	return base64.RawURLEncoding.EncodeToString(raw)
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	h, _, _ := split(jwt)
	raw, _ := base64.RawURLEncoding.DecodeString(h)
	var hdr struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.KID
}
