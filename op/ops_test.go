package op_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/demo"
	"github.com/signet-id/signet/op"
)

// TestDemoRelyingParty runs /demo the way a person does in dev mode: the
// demo app starts the code + PKCE flow, the wallet signs, and the demo
// shows the ID-token claims it verified against the JWKS.
func TestDemoRelyingParty(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.Demo = true })
	ts.addClient(t, clients.Params{ID: demo.ClientID, Name: "Signet demo app", Public: true, RedirectURIs: []string{demo.RedirectURI(ts.Issuer)}})
	b := browser()
	// The issuer's root sends a newcomer to the demo.
	resp, err := b.Get(ts.Issuer + "/")
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/demo" {
		t.Fatalf("GET / in dev mode: %d %q, want a redirect to /demo", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = b.Get(ts.Issuer + "/demo")
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, resp); !strings.Contains(page, "/demo/start") {
		t.Fatalf("demo home lacks the start link: %s", page)
	}
	resp, err = b.Get(ts.Issuer + "/demo/start")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := authorize(t, ts, b, resp.Header.Get("Location"))
	w := newWallet(t)
	cb := signIn(t, ts, b, id, w)
	resp, err = b.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "eip155:1:"+w.Address()) || !strings.Contains(page, "siwe_signature") {
		t.Fatalf("demo result (%d) lacks the verified claims:\n%s", resp.StatusCode, page)
	}
	// A callback without the browser's state cookie is refused.
	resp, err = browser().Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, resp); strings.Contains(page, w.Address()) {
		t.Fatal("demo accepted a callback without its state cookie")
	}
}

// TestKeyRotation: a token signed before rotation still verifies, the new
// key signs new tokens, and both are in the JWKS.
func TestKeyRotation(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app)
	before, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	oldKID := kidOf(t, before.AccessToken)
	k, err := ts.Keys.Rotate(context.Background(), 0, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, v = codeFor(t, ts, app)
	after, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if got := kidOf(t, after.AccessToken); got != k.ID || got == oldKID {
		t.Fatalf("new token kid = %s, want the new key %s", got, k.ID)
	}
	// A fresh relying party (empty key cache) verifies both tokens.
	fresh := newRP(t, ts, c.ID, secret)
	for _, tok := range []*oauth2.Token{before, after} {
		if _, err := fresh.verifier.Verify(fresh.ctx, tok.Extra("id_token").(string)); err != nil {
			t.Fatalf("ID token with kid %s: %v", kidOf(t, tok.AccessToken), err)
		}
		verifyJWT(t, fresh, tok.AccessToken, c.ID)
	}
}

func TestKeyRingPublishesBeforeUseAndDropsAfterRetention(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock)
	ctx := context.Background()
	first, err := ts.Keys.SigningKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	next, err := ts.Keys.Rotate(ctx, 10*time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kids := func() []string {
		ks, err := ts.Keys.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range ks {
			out = append(out, k.ID())
		}
		return out
	}
	current := func() string {
		k, err := ts.Keys.SigningKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return k.ID()
	}
	if got := kids(); len(got) != 2 || current() != first.ID() {
		t.Fatalf("during the publish delay: published %v, signing with %s; want both published and the old key signing", got, current())
	}
	clock.Advance(10 * time.Minute)
	if current() != next.ID {
		t.Fatalf("after the delay the new key does not sign")
	}
	clock.Advance(59 * time.Minute)
	if got := kids(); len(got) != 2 {
		t.Fatalf("retired key dropped before its tokens expired: %v", got)
	}
	clock.Advance(2 * time.Minute)
	// KeyRing caches for an hour in tests; force a reload past the drop time.
	clock.Advance(time.Hour)
	if got := kids(); len(got) != 1 || got[0] != next.ID {
		t.Fatalf("after retention: %v, want only %s", got, next.ID)
	}
}

func kidOf(t *testing.T, jwt string) string {
	t.Helper()
	tok, err := parseHeader(jwt)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestCORSOnlyForRegisteredOrigins(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.addClient(t, clients.Params{RedirectURIs: []string{"https://app.example/cb"}})
	for origin, allowed := range map[string]bool{"https://app.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest(http.MethodGet, ts.Issuer+"/.well-known/openid-configuration", nil)
		req.Header.Set("Origin", origin)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin")
		if allowed && got != origin || !allowed && got != "" {
			t.Errorf("origin %s: Access-Control-Allow-Origin = %q", origin, got)
		}
	}
}

func TestEndSessionRevokesTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{"http://127.0.0.1:9/bye"}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app, oidc.ScopeOfflineAccess)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"id_token_hint": {tok.Extra("id_token").(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"x"}}
	resp, err := browser().Get(ts.Issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "http://127.0.0.1:9/bye") {
		t.Fatalf("end_session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["active"] != false {
		t.Fatalf("access token active after logout: %v", got)
	}
}

// TestBadInputNeverAnswers500 throws malformed requests at every endpoint:
// none may answer 5xx or show an internal error text.
func TestBadInputNeverAnswers500(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	reqs := []struct{ method, path, ctype, body string }{
		{"POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=%ff%fe&redirect_uri=x"},
		{"POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=refresh_token&refresh_token=srt_nope"},
		{"POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=password&username=a"},
		{"POST", "/oauth/token", "application/json", "{"},
		{"POST", "/oauth/introspect", "application/x-www-form-urlencoded", "token=abc"},
		{"POST", "/revoke", "application/x-www-form-urlencoded", "token=srt_nope"},
		{"GET", "/userinfo", "", ""},
		{"GET", "/authorize?client_id=" + c.ID + "&redirect_uri=%zz", "", ""},
		{"GET", "/authorize?response_type=token&client_id=" + c.ID + "&redirect_uri=" + url.QueryEscape(testRedirect) + "&scope=openid", "", ""},
		{"GET", "/authorize/callback?id=nope", "", ""},
		{"GET", "/login?authRequestID=" + strings.Repeat("x", 5000), "", ""},
		{"POST", "/login/challenge", "application/json", `{"authRequestID":"nope","address":"0x1"}`},
		{"POST", "/login/challenge", "application/json", strings.Repeat("[", 100000)},
		{"POST", "/login/verify", "application/json", `{"authRequestID":"a","challengeId":"b","signature":"0x00"}`},
		{"GET", "/end_session?id_token_hint=garbage", "", ""},
	}
	for _, r := range reqs {
		req, _ := http.NewRequest(r.method, ts.Issuer+r.path, strings.NewReader(r.body))
		if r.ctype != "" {
			req.Header.Set("Content-Type", r.ctype)
		}
		if strings.HasPrefix(r.path, "/oauth/introspect") || strings.HasPrefix(r.path, "/revoke") {
			req.SetBasicAuth(c.ID, secret)
		}
		resp, err := browser().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s: %d %s", r.method, r.path[:min(len(r.path), 60)], resp.StatusCode, body)
		}
		for _, leak := range []string{"sql", "gorm", "runtime error", "goroutine", "ErrorType=", "Parent="} {
			if strings.Contains(strings.ToLower(string(body)), strings.ToLower(leak)) {
				t.Errorf("%s %s leaks %q: %s", r.method, r.path[:min(len(r.path), 60)], leak, body)
			}
		}
	}
}

func TestMetricsAndProbes(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	codeFor(t, ts, app)
	for path, want := range map[string]string{
		"/healthz": "ok",
		"/ready":   "ready",
		"/metrics": `signet_logins_total{flow="browser",result="success"} 1`,
	} {
		resp, err := http.Get(ts.Issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, lacks %q", path, resp.StatusCode, want)
		}
	}
	resp, _ := http.Get(ts.Issuer + "/metrics")
	if body := readAll(t, resp); !strings.Contains(body, `signet_http_requests_total{code="200",route="/login/verify"}`) {
		t.Error("metrics lack per-route request counts")
	}
}

// TestIssuerWithPath serves Signet below a path prefix.
func TestIssuerWithPath(t *testing.T) {
	ts := newTestServerPath(t, "/tenant")
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	if app.provider.Endpoint().TokenURL != ts.Issuer+"/oauth/token" {
		t.Fatalf("token URL = %s", app.provider.Endpoint().TokenURL)
	}
	b := browser()
	verifier := oauth2.GenerateVerifier()
	resp, err := b.Get(app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc == nil || loc.Path != "/tenant/login" {
		t.Fatalf("login page at %v", loc)
	}
	cb := signIn(t, ts, b, loc.Query().Get("authRequestID"), newWallet(t))
	tok, err := app.config.Exchange(app.ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.verifier.Verify(app.ctx, tok.Extra("id_token").(string)); err != nil {
		t.Fatal(err)
	}
}

func TestDiscoveryAndJWKSCaching(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.KeyPublishDelay = 10 * time.Minute })
	resp, err := http.Get(ts.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	disc := decodeBody(t, resp)
	if disc["authorization_response_iss_parameter_supported"] != true || disc["device_authorization_endpoint"] != nil {
		t.Errorf("discovery = %v", disc)
	}
	if rt, _ := disc["response_types_supported"].([]any); len(rt) != 1 || rt[0] != "code" {
		t.Errorf("response_types_supported = %v", disc["response_types_supported"])
	}
	resp, err = http.Get(ts.Issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	keys := decodeBody(t, resp)
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=300" || etag == "" {
		t.Fatalf("JWKS Cache-Control %q ETag %q", cc, etag)
	}
	list, _ := keys["keys"].([]any)
	if len(list) != 1 {
		t.Fatalf("keys = %v", keys)
	}
	k := list[0].(map[string]any)
	if k["use"] != "sig" || k["alg"] != "RS256" || k["kty"] != "RSA" || k["kid"] == "" || k["d"] != nil {
		t.Fatalf("JWK = %v", k)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.Issuer+"/keys", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional JWKS request: %d", resp.StatusCode)
	}
}
