package op_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
)

// authorizeError follows /authorize and expects an error redirect to the
// client (RFC 6749 §4.1.2.1) with the given error code.
func authorizeError(t *testing.T, b *http.Client, authURL, wantErr string) url.Values {
	t.Helper()
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || !strings.HasPrefix(loc.String(), testRedirect) {
		t.Fatalf("authorize: status %d location %q, want an error redirect to the client", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := loc.Query().Get("error"); got != wantErr {
		t.Fatalf("error = %q (%s), want %q", got, loc.Query().Get("error_description"), wantErr)
	}
	return loc.Query()
}

func TestAuthorizeRejects(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Public: true})
	app := newRP(t, ts, pub.ID, "")
	b := browser()

	t.Run("public client without PKCE", func(t *testing.T) {
		q := authorizeError(t, b, app.config.AuthCodeURL("s"), "invalid_request")
		if !strings.Contains(q.Get("error_description"), "PKCE") || q.Get("iss") != ts.Issuer {
			t.Errorf("error redirect = %v", q)
		}
	})
	t.Run("plain PKCE", func(t *testing.T) {
		authorizeError(t, b, app.config.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")), "invalid_request")
	})
	t.Run("PKCE without method defaults to plain", func(t *testing.T) {
		authorizeError(t, b, app.config.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43))), "invalid_request")
	})
	t.Run("prompt=none", func(t *testing.T) {
		authorizeError(t, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("prompt", "none")), "login_required")
	})
	t.Run("unregistered redirect URI is never redirected to", func(t *testing.T) {
		cfg := *app.config
		cfg.RedirectURL = "http://127.0.0.1:9/other"
		resp, err := b.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption("v")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound {
			t.Fatalf("redirected to %q", resp.Header.Get("Location"))
		}
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		cfg := *app.config
		cfg.ClientID = "nobody"
		resp, err := b.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption("v")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound || resp.StatusCode >= 500 {
			t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestPublicClientLoopbackAnyPort checks RFC 8252 §7.3 end to end.
func TestPublicClientLoopbackAnyPort(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{"http://127.0.0.1/callback"}, Public: true})
	app := newRP(t, ts, pub.ID, "")
	app.config.RedirectURL = "http://127.0.0.1:53127/callback"
	b := browser()
	verifier := oauth2.GenerateVerifier()
	id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	cb := signIn(t, ts, b, id, newWallet(t))
	if cb.Host != "127.0.0.1:53127" {
		t.Fatalf("redirected to %s", cb)
	}
	if _, err := app.config.Exchange(app.ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("exchange: %v", err)
	}
}

// codeFor runs a login and returns the code and its PKCE verifier.
func codeFor(t *testing.T, ts *testServer, app *rp, scopes ...string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	cfg := *app.config
	cfg.Scopes = append(cfg.Scopes, scopes...)
	b := browser()
	id := authorize(t, ts, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	cb := signIn(t, ts, b, id, newWallet(t))
	return cb.Query().Get("code"), verifier
}

func tokenError(t *testing.T, err error, want string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if err == nil {
		t.Fatalf("token request succeeded, want %s", want)
	}
	if !errorAs(err, &re) || re.ErrorCode != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestTokenEndpointRejects(t *testing.T) {
	ts := newTestServer(t, nil)
	conf, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, conf.ID, secret)

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		code, _ := codeFor(t, ts, app)
		_, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		tokenError(t, err, "invalid_grant")
	})
	t.Run("missing PKCE verifier", func(t *testing.T) {
		code, _ := codeFor(t, ts, app)
		_, err := app.config.Exchange(app.ctx, code)
		tokenError(t, err, "invalid_request")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		code, v := codeFor(t, ts, app)
		cfg := *app.config
		cfg.ClientSecret = "wrong"
		_, err := cfg.Exchange(app.ctx, code, oauth2.VerifierOption(v))
		var re *oauth2.RetrieveError
		if !errorAs(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
			t.Fatalf("error = %v, want 401 invalid_client", err)
		}
	})
	t.Run("redirect_uri differs from the authorization request", func(t *testing.T) {
		code, v := codeFor(t, ts, app)
		cfg := *app.config
		cfg.RedirectURL = "http://127.0.0.1:9/elsewhere"
		_, err := cfg.Exchange(app.ctx, code, oauth2.VerifierOption(v))
		tokenError(t, err, "invalid_grant")
	})
	t.Run("expired code", func(t *testing.T) {
		clock := &testClock{t: time.Now()}
		ts := newTestServer(t, clock)
		c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
		app := newRP(t, ts, c.ID, secret)
		code, v := codeFor(t, ts, app)
		clock.Advance(61 * time.Second)
		_, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
		tokenError(t, err, "invalid_grant")
	})
}

// TestReusedCodeRevokesItsTokens: RFC 6749 §4.1.2 — a code used twice is
// refused, and what was issued from it stops working.
func TestReusedCodeRevokesItsTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app, oidc.ScopeOfflineAccess)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["active"] != true {
		t.Fatalf("fresh token inactive: %v", got)
	}
	_, err = app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	tokenError(t, err, "invalid_grant")
	if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["active"] != false {
		t.Fatalf("access token from a replayed code still active: %v", got)
	}
	tok.Expiry = time.Now().Add(-time.Hour)
	_, err = app.config.TokenSource(app.ctx, tok).Token()
	tokenError(t, err, "invalid_grant")
}

// TestReusedRefreshTokenRevokesFamily: rotation with reuse detection.
func TestReusedRefreshTokenRevokesFamily(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app, oidc.ScopeOfflineAccess)
	first, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	stale := *first
	stale.Expiry = time.Now().Add(-time.Hour)
	second, err := app.config.TokenSource(app.ctx, &stale).Token()
	if err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	// The old refresh token again: refused, and the rotated one dies too.
	_, err = app.config.TokenSource(app.ctx, &stale).Token()
	tokenError(t, err, "invalid_grant")
	second.Expiry = time.Now().Add(-time.Hour)
	_, err = app.config.TokenSource(app.ctx, second).Token()
	tokenError(t, err, "invalid_grant")
	if got := introspect(t, ts, c.ID, secret, second.AccessToken); got["active"] != false {
		t.Fatalf("access token of a revoked family still active: %v", got)
	}
}

func TestNoRefreshTokenWithoutOfflineAccess(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Fatal("refresh token issued without offline_access")
	}
}

// TestLoginVerifyRejects drives the login endpoints as the page does.
func TestLoginVerifyRejects(t *testing.T) {
	clock := &testClock{t: time.Now()}
	ts := newTestServer(t, clock)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	start := func(t *testing.T) (string, *wallet, map[string]any) {
		b := browser()
		id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		w := newWallet(t)
		resp, ch := postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("challenge: %v", ch)
		}
		return id, w, ch
	}
	verify := func(t *testing.T, id string, ch map[string]any, sig string, wantStatus int, wantErr, wantDesc string) {
		t.Helper()
		resp, body := postJSON(t, browser(), ts.Issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": sig})
		if resp.StatusCode != wantStatus || body["error"] != wantErr || !strings.Contains(body["error_description"].(string), wantDesc) {
			t.Fatalf("verify: %d %v, want %d %s (%s)", resp.StatusCode, body, wantStatus, wantErr, wantDesc)
		}
	}
	t.Run("signature by another key", func(t *testing.T) {
		id, _, ch := start(t)
		verify(t, id, ch, newWallet(t).Sign(t, ch["message"].(string)), 400, "invalid_grant", "different account")
	})
	t.Run("malformed signature", func(t *testing.T) {
		id, _, ch := start(t)
		verify(t, id, ch, "0xnothex", 400, "invalid_request", "cannot read")
	})
	t.Run("short signature", func(t *testing.T) {
		id, _, ch := start(t)
		verify(t, id, ch, "0x"+strings.Repeat("ab", 63), 400, "invalid_grant", "cannot read")
	})
	t.Run("expired challenge", func(t *testing.T) {
		id, w, ch := start(t)
		clock.Advance(5*time.Minute + time.Second)
		verify(t, id, ch, w.Sign(t, ch["message"].(string)), 400, "invalid_grant", "expired")
	})
	t.Run("replayed signature", func(t *testing.T) {
		id, w, ch := start(t)
		sig := w.Sign(t, ch["message"].(string))
		resp, body := postJSON(t, browser(), ts.Issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": sig})
		if resp.StatusCode != 200 {
			t.Fatalf("first verify: %v", body)
		}
		verify(t, id, ch, sig, 400, "invalid_grant", "already used")
	})
	t.Run("challenge of another auth request", func(t *testing.T) {
		_, w, ch := start(t)
		other, _, _ := start(t)
		verify(t, other, ch, w.Sign(t, ch["message"].(string)), 400, "invalid_grant", "")
	})
	t.Run("not JSON", func(t *testing.T) {
		resp, err := http.Post(ts.Issuer+"/login/verify", "application/x-www-form-urlencoded", strings.NewReader("a=b"))
		if err != nil {
			t.Fatal(err)
		}
		body := decodeBody(t, resp)
		if resp.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
	})
	t.Run("unknown auth request on the page", func(t *testing.T) {
		resp, err := http.Get(ts.Issuer + "/login?authRequestID=nope")
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if resp.StatusCode != 400 || !strings.Contains(page, "start the sign-in again") {
			t.Fatalf("%d %s", resp.StatusCode, page)
		}
	})
}

// TestConcurrentLoginVerify: of 50 simultaneous posts of one signed
// challenge, exactly one completes the login.
func TestConcurrentLoginVerify(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	b := browser()
	id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	w := newWallet(t)
	_, ch := postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
	sig := w.Sign(t, ch["message"].(string))
	oneWinner(t, 50, func() int {
		resp, _ := postJSON(t, browser(), ts.Issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": sig})
		return resp.StatusCode
	})
}
