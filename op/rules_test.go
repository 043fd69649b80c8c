package op_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
)

// Tests for rules of the OIDC layer that the library beneath would not
// enforce by itself: each fails when its rule is removed (docs/security.md).

// TestAuthorizeRedirectURIIsExact: Signet's own matcher decides at
// /authorize. zitadel alone would accept localhost and [::1] for a public
// client registered on 127.0.0.1 (RFC 8252 §7.3 names 127.0.0.1 and [::1]
// as different hosts, and localhost is not loopback by definition), and a
// percent-encoded path for a confidential one (RFC 6749 §3.1.2.3: simple
// string comparison).
func TestAuthorizeRedirectURIIsExact(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{"http://127.0.0.1/callback"}, Public: true})
	conf, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{"https://app.example/cb"}})
	for _, tc := range []struct{ client, redirect string }{
		{pub.ID, "http://localhost:5000/callback"},
		{pub.ID, "http://[::1]:5000/callback"},
		{pub.ID, "http://127.0.0.1:5000/callback/../callback"},
		{conf.ID, "https://app.example/%63b"},
		{conf.ID, "https://APP.example/cb"},
		{conf.ID, "https://app.example/cb/"},
		{conf.ID, "https://app.example:443/cb"},
	} {
		q := url.Values{"client_id": {tc.client}, "redirect_uri": {tc.redirect}, "response_type": {"code"}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier("v")}, "code_challenge_method": {"S256"}}
		resp, err := browser().Get(ts.Issuer + "/authorize?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "redirect_uri is not registered") {
			t.Errorf("%s for %s: %d %s, want 400 redirect_uri is not registered", tc.redirect, tc.client, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// TestConcurrentCodeExchangeRevokes: RFC 6749 §4.1.2. When one code is
// exchanged several times at once, one exchange wins the code, the others
// are refused, and the winner's tokens are revoked, because a code used
// twice is a sign that it was stolen.
func TestConcurrentCodeExchangeRevokes(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	for round := range 3 {
		code, v := codeFor(t, ts, app)
		const n = 8
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			mu      sync.Mutex
			winners []*oauth2.Token
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
				if err == nil {
					mu.Lock()
					winners = append(winners, tok)
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) > 1 {
			t.Fatalf("round %d: %d exchanges of one code got tokens", round, len(winners))
		}
		for _, tok := range winners {
			if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["active"] != false {
				t.Fatalf("round %d: the winner's access token is still active after the code was exchanged again: %v", round, got)
			}
		}
	}
}

// TestClientsTouchOnlyTheirOwnTokens: RFC 7009 §2.1, a client revokes only
// tokens issued to it; RFC 7662 §2.2, introspection tells a client nothing
// about another client's token.
func TestClientsTouchOnlyTheirOwnTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	a, aSecret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	b, bSecret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, a.ID, aSecret, oidc.ScopeOfflineAccess)
	code, v := codeFor(t, ts, app)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}

	if got := introspect(t, ts, b.ID, bSecret, tok.AccessToken); got["active"] != false || got["sub"] != nil {
		t.Fatalf("another client introspected the token: %v", got)
	}
	if got := introspect(t, ts, a.ID, aSecret, tok.AccessToken); got["active"] != true {
		t.Fatalf("the token's own client: %v", got)
	}

	for _, tc := range []struct{ token, hint string }{{tok.AccessToken, "access_token"}, {tok.RefreshToken, "refresh_token"}} {
		req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/revoke", strings.NewReader(url.Values{"token": {tc.token}, "token_type_hint": {tc.hint}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(b.ID, bSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
	}
	if got := introspect(t, ts, a.ID, aSecret, tok.AccessToken); got["active"] != true {
		t.Fatalf("another client revoked the access token: %v", got)
	}
	tok.Expiry = time.Now().Add(-time.Hour)
	if _, err := app.config.TokenSource(app.ctx, tok).Token(); err != nil {
		t.Fatalf("another client revoked the refresh token: %v", err)
	}
}
