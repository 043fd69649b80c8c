package resource

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
)

// TestSignetIntrospection: with Introspect, Signet's access token is
// checked at its introspection endpoint, as an X-API-Key is; the answer is
// cached, so a revocation is seen once the cache entry expires.
func TestSignetIntrospection(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	access, _, address := s.login(t, id, secret, "openid")
	clock := clocktest.New(time.Now())
	v := newVerifier(t, s, clock, id, func(c *Config) { c.ClientID, c.ClientSecret, c.Introspect = id, secret, true })
	offline := newVerifier(t, s, clock, id)

	w := call(v.Require("openid"), bearer(access)...)
	if w.Code != http.StatusOK {
		t.Fatalf("active token: %d %s", w.Code, w.Body)
	}
	var p Principal
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if p.Subject != "eip155:1:"+address || p.Address != address || p.ClientID != id || !p.HasScope("openid") || p.Expiry.IsZero() {
		t.Fatalf("principal = %+v", p)
	}
	if s.introspectHits.Load() != 1 || s.jwksHits.Load() != 0 {
		t.Fatalf("introspection %d, JWKS %d requests; want 1 and 0", s.introspectHits.Load(), s.jwksHits.Load())
	}

	s.revoke(t, id, secret, access)
	if w := call(v.Require(), bearer(access)...); w.Code != http.StatusOK {
		t.Fatalf("revoked, but still cached: %d %s", w.Code, w.Body)
	}
	clock.Advance(10 * time.Second)
	refused(t, call(v.Require(), bearer(access)...), http.StatusUnauthorized, CodeInvalidToken, "not active")
	if got := s.introspectHits.Load(); got != 2 {
		t.Fatalf("%d introspections, want 2", got)
	}
	// Offline verification cannot see a revocation: that is Introspect's use.
	if w := call(offline.Require(), bearer(access)...); w.Code != http.StatusOK {
		t.Fatalf("offline check of a revoked token: %d %s", w.Code, w.Body)
	}
	// A wrong client secret is this server's fault, not the caller's: 503.
	bad := newVerifier(t, s, clock, id, func(c *Config) { c.ClientID, c.ClientSecret, c.Introspect = id, "wrong", true })
	refused(t, call(bad.Require(), bearer(access)...), http.StatusServiceUnavailable, CodeUnavailable, "cannot be checked now")
}

// TestSignetScopes: a valid token without a required scope is 403
// insufficient_scope naming the scopes in WWW-Authenticate (RFC 6750 §3.1).
func TestSignetScopes(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	access, _, _ := s.login(t, id, secret, "openid")
	v := newVerifier(t, s, clocktest.New(time.Now()), id, func(c *Config) { c.Realm = "things" })

	w := call(v.Require("openid", "profile"), bearer(access)...)
	refused(t, w, http.StatusForbidden, CodeInsufficientScope, "lacks a scope")
	want := `Bearer realm="things", error="insufficient_scope", error_description="the credential lacks a scope this resource needs", scope="openid profile"`
	if got := w.Header().Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate = %s\nwant %s", got, want)
	}
	if w := call(v.Require("openid"), bearer(access)...); w.Code != http.StatusOK {
		t.Fatalf("scope held: %d %s", w.Code, w.Body)
	}
}

// TestSignetCustomEnvelope: WriteError answers in a server's own envelope,
// here the dob profile's {"success": false, "error": {"code", "message"}},
// while WWW-Authenticate stays RFC 6750's.
func TestSignetCustomEnvelope(t *testing.T) {
	s := startSignet(t)
	id, secret := s.addClient(t)
	access, _, _ := s.login(t, id, secret, "openid")
	envelope := func(w http.ResponseWriter, _ *http.Request, e *Error) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]string{"code": strings.ToUpper(e.Code), "message": e.Description}})
	}
	v := newVerifier(t, s, clocktest.New(time.Now()), id, func(c *Config) { c.WriteError = envelope })
	check := func(w interface {
		Result() *http.Response
	}, status int, code string) {
		t.Helper()
		resp := w.Result()
		var body struct {
			Success *bool
			Error   struct{ Code, Message string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != status || body.Success == nil || *body.Success ||
			body.Error.Code != code || body.Error.Message == "" || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Fatalf("got %d %+v (%v), want %d %s", resp.StatusCode, body, err, status, code)
		}
	}
	check(call(v.Require("profile"), bearer(access)...), http.StatusForbidden, "INSUFFICIENT_SCOPE")
	check(call(v.Require(), bearer(access+"x")...), http.StatusUnauthorized, "INVALID_TOKEN")
	check(call(v.Require()), http.StatusUnauthorized, "INVALID_TOKEN")
}

// TestSignetAPIKey: a wallet's API key, made at Signet's /api/keys, is
// accepted as X-API-Key with its own scopes only, and refused once revoked
// (after the cache's time).
func TestSignetAPIKey(t *testing.T) {
	s := startSignet(t)
	c, secret, err := s.Registry.Add(context.Background(), clients.Params{
		Name: "Trading API", RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid", "read", "trade"},
	})
	if err != nil {
		t.Fatal(err)
	}
	access, _, address := s.login(t, c.ID, secret, "openid read trade")
	created := s.apiKeys(t, http.MethodPost, "", access, map[string]any{"label": "bot", "scopes": []string{"read"}}, http.StatusCreated)
	key, keyID := created["key"].(string), created["id"].(string)

	clock := clocktest.New(time.Now())
	v := newVerifier(t, s, clock, c.ID, func(cfg *Config) { cfg.ClientID, cfg.ClientSecret = c.ID, secret })
	w := call(v.Require("read"), "X-API-Key", key)
	if w.Code != http.StatusOK {
		t.Fatalf("X-API-Key: %d %s", w.Code, w.Body)
	}
	var p Principal
	_ = json.Unmarshal(w.Body.Bytes(), &p)
	if p.Subject != "eip155:1:"+address || p.APIKeyID != keyID || p.ClientID != c.ID || p.HasScope("trade") {
		t.Fatalf("principal = %+v", p)
	}
	refused(t, call(v.Require("trade"), "X-API-Key", key), http.StatusForbidden, CodeInsufficientScope, "lacks a scope")

	s.apiKeys(t, http.MethodDelete, "/"+keyID, access, nil, http.StatusNoContent)
	clock.Advance(10 * time.Second)
	refused(t, call(v.Require("read"), "X-API-Key", key), http.StatusUnauthorized, CodeInvalidToken, "not active")
}

// apiKeys calls Signet's /api/keys<path> with a Bearer token and returns
// the JSON answer, failing unless the status is want.
func (s *signet) apiKeys(t *testing.T, method, path, token string, body any, want int) map[string]any {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.Issuer+"/api/keys"+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s /api/keys%s: %d %s", method, path, resp.StatusCode, raw)
	}
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}
