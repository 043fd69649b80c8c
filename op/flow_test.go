package op_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
)

const testRedirect = "http://127.0.0.1:9/callback"

// rp is a relying party built from coreos/go-oidc and x/oauth2, the way an
// app integrates.
type rp struct {
	provider *oidc.Provider
	config   *oauth2.Config
	verifier *oidc.IDTokenVerifier
	ctx      context.Context
}

func newRP(t testing.TB, ts *testServer, clientID, secret string, scopes ...string) *rp {
	t.Helper()
	hc := http.DefaultClient // a benchmark's load generator has the issuer only
	if ts.Server != nil {
		hc = ts.Client()
	}
	ctx := oidc.ClientContext(context.Background(), hc)
	p, err := oidc.NewProvider(ctx, ts.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &rp{
		provider: p,
		ctx:      ctx,
		config: &oauth2.Config{
			ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(),
			RedirectURL: testRedirect, Scopes: append([]string{oidc.ScopeOpenID}, scopes...),
		},
		verifier: p.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256"}}),
	}
}

// TestBrowserFlowEndToEnd runs discovery → authorize → login → callback →
// token → ID token verified against the JWKS → userinfo → refresh → revoke
// → introspection says inactive.
func TestBrowserFlowEndToEnd(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret, "profile", "siwe", oidc.ScopeOfflineAccess)
	w := newWallet(t)
	b := browser()

	verifier := oauth2.GenerateVerifier()
	authURL := app.config.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))
	id := authorize(t, ts, b, authURL)

	// The login page names the app and offers the one button.
	resp, err := b.Get(ts.Issuer + "/login?authRequestID=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	for _, want := range []string{"Sign in with Ethereum", "Test App", "127.0.0.1:9"} {
		if !strings.Contains(page, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("login page CSP = %q", csp)
	}

	cb := signIn(t, ts, b, id, w)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		t.Fatalf("redirected to %s, want %s", got, testRedirect)
	}
	q := cb.Query()
	if q.Get("state") != "state-123" || q.Get("code") == "" || q.Get("iss") != ts.Issuer {
		t.Fatalf("callback query = %v", q)
	}

	tok, err := app.config.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, claims := verifyIDToken(t, app, raw)
	wantSub := "eip155:1:" + w.Address()
	if idt.Subject != wantSub || idt.Nonce != "nonce-456" || idt.Issuer != ts.Issuer {
		t.Fatalf("ID token sub=%q nonce=%q iss=%q", idt.Subject, idt.Nonce, idt.Issuer)
	}
	if claims["ethereum_address"] != w.Address() || claims["chain_id"] != float64(1) {
		t.Errorf("ID token address claims = %v / %v", claims["ethereum_address"], claims["chain_id"])
	}
	if claims["preferred_username"] != w.Address() {
		t.Errorf("preferred_username = %v", claims["preferred_username"])
	}
	msg, _ := claims["siwe_message"].(string)
	if !strings.Contains(msg, w.Address()) || !strings.HasPrefix(claims["siwe_signature"].(string), "0x") {
		t.Errorf("siwe claims = %q / %v", msg, claims["siwe_signature"])
	}
	if claims["at_hash"] == nil || claims["auth_time"] == nil {
		t.Errorf("ID token lacks at_hash or auth_time: %v", claims)
	}

	// The access token is an RS256 JWT that verifies offline against the
	// same JWKS, with aud = client ID and the account claims.
	atClaims := verifyJWT(t, app, tok.AccessToken, c.ID)
	if atClaims["sub"] != wantSub || atClaims["ethereum_address"] != w.Address() || atClaims["chain_id"] != float64(1) {
		t.Errorf("access token claims = %v", atClaims)
	}

	ui, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var uiClaims map[string]any
	_ = ui.Claims(&uiClaims)
	if ui.Subject != wantSub || uiClaims["ethereum_address"] != w.Address() {
		t.Errorf("userinfo = %v", uiClaims)
	}

	// Refresh rotates: a new refresh token, and a new ID token that verifies.
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token although offline_access was asked")
	}
	old := tok.RefreshToken
	tok.Expiry = tok.Expiry.Add(-48 * 3600e9)
	refreshed, err := app.config.TokenSource(app.ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if refreshed.RefreshToken == "" || refreshed.RefreshToken == old {
		t.Fatalf("refresh token not rotated")
	}
	if rawID, _ := refreshed.Extra("id_token").(string); rawID == "" {
		t.Error("refresh answer lacks an ID token")
	} else if _, err := app.verifier.Verify(app.ctx, rawID); err != nil {
		t.Errorf("refreshed ID token: %v", err)
	}

	// Introspection says active, then inactive after revocation.
	if active := introspect(t, ts, c.ID, secret, refreshed.AccessToken); active["active"] != true || active["sub"] != wantSub {
		t.Fatalf("introspection before revoke = %v", active)
	}
	revoke(t, ts, c.ID, secret, refreshed.AccessToken, "access_token")
	if got := introspect(t, ts, c.ID, secret, refreshed.AccessToken); got["active"] != false {
		t.Fatalf("introspection after revoke = %v", got)
	}
	// Revoking the refresh token ends the family.
	revoke(t, ts, c.ID, secret, refreshed.RefreshToken, "refresh_token")
	refreshed.Expiry = refreshed.Expiry.Add(-48 * 3600e9)
	if _, err := app.config.TokenSource(app.ctx, refreshed).Token(); err == nil {
		t.Fatal("a revoked refresh token still works")
	}
}

// verifyJWT checks an access token's signature and audience with go-oidc's
// key set, as a resource server would.
// verifyIDToken verifies an ID token against the JWKS as the relying party
// does and returns it with its claims.
func verifyIDToken(t testing.TB, app *rp, raw string) (*oidc.IDToken, map[string]any) {
	t.Helper()
	idt, err := app.verifier.Verify(app.ctx, raw)
	if err != nil {
		t.Fatalf("ID token does not verify against the JWKS: %v", err)
	}
	var m map[string]any
	if err := idt.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return idt, m
}

func verifyJWT(t testing.TB, app *rp, raw, clientID string) map[string]any {
	t.Helper()
	v := app.provider.Verifier(&oidc.Config{ClientID: clientID, SupportedSigningAlgs: []string{"RS256"}})
	tok, err := v.Verify(app.ctx, raw)
	if err != nil {
		t.Fatalf("access token does not verify offline: %v", err)
	}
	var m map[string]any
	_ = tok.Claims(&m)
	return m
}

func introspect(t testing.TB, ts *testServer, id, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/oauth/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return decodeBody(t, resp)
}

func revoke(t testing.TB, ts *testServer, id, secret, token, hint string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/revoke", strings.NewReader(url.Values{"token": {token}, "token_type_hint": {hint}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
}

func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}
