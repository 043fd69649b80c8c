package resource

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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
	// Signet has no API keys yet: its access token stands in for one.
	if w := call(v.Require(), "X-API-Key", access); w.Code != http.StatusOK || s.introspectHits.Load() != 1 {
		t.Fatalf("X-API-Key: %d %s after %d introspections (want the cached answer)", w.Code, w.Body, s.introspectHits.Load())
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
