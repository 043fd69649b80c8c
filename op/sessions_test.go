package op_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/op"
)

// follow goes from an authorization URL through Signet's redirects until
// the browser leaves for the app (the redirect URI) or lands on a page;
// it returns the last answer's status and URL.
func follow(t *testing.T, b *http.Client, u string) (int, *url.URL, string) {
	t.Helper()
	for range 5 {
		resp, err := b.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || strings.HasPrefix(loc, testRedirect) {
			final, _ := url.Parse(loc)
			if loc == "" {
				final, _ = url.Parse(u)
			}
			return resp.StatusCode, final, body
		}
		next, _ := resp.Request.URL.Parse(loc)
		u = next.String()
	}
	t.Fatal("too many redirects")
	return 0, nil, ""
}

// TestSingleSignOn: with sessions on, a browser that signed in once signs
// into a second app without a new signature, silently with prompt=none or
// with one click on the login page; prompt=login and max_age ask for a
// signature again; /end_session ends the session; another browser has none.
func TestSingleSignOn(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock, func(c *op.Config) { c.SessionTTL = 8 * time.Hour })
	first, firstSecret := ts.addClient(t, clients.Params{Name: "First", RedirectURIs: []string{testRedirect}})
	second, secondSecret := ts.addClient(t, clients.Params{Name: "Second", RedirectURIs: []string{testRedirect}, PostLogoutRedirectURIs: []string{testRedirect}})
	app1 := newRP(t, ts, first.ID, firstSecret)
	app2 := newRP(t, ts, second.ID, secondSecret)

	b := browser()
	w := newWallet(t)
	id := authorize(t, ts, b, app1.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v")))
	signIn(t, ts, b, id, w)
	signedAt := clock.Now()

	authURL := func(params ...oauth2.AuthCodeOption) (string, string) {
		v := oauth2.GenerateVerifier()
		return app2.config.AuthCodeURL("s2", append(params, oauth2.S256ChallengeOption(v))...), v
	}
	t.Run("prompt=none completes silently", func(t *testing.T) {
		u, v := authURL(oauth2.SetAuthURLParam("prompt", "none"))
		_, final, _ := follow(t, b, u)
		code := final.Query().Get("code")
		if code == "" {
			t.Fatalf("prompt=none landed on %s, want a code", final)
		}
		tok, err := app2.config.Exchange(app2.ctx, code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		idt, claims := verifyIDToken(t, app2, tok.Extra("id_token").(string))
		if authTime, _ := claims["auth_time"].(float64); idt.Subject != "eip155:1:"+w.Address() || int64(authTime) != signedAt.Unix() {
			t.Fatalf("sub %s auth_time %v, want the first sign-in's (%d)", idt.Subject, claims["auth_time"], signedAt.Unix())
		}
	})
	t.Run("the page offers Continue as", func(t *testing.T) {
		u, v := authURL()
		id := authorize(t, ts, b, u)
		resp, err := b.Get(ts.Issuer + "/login?authRequestID=" + url.QueryEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		short := w.Address()[:6] + "…" + w.Address()[38:]
		if !strings.Contains(page, "Continue as") || !strings.Contains(page, short) || !strings.Contains(page, "Sign in with Ethereum") {
			t.Fatalf("login page lacks Continue as %s beside Sign in with Ethereum:\n%s", short, page)
		}
		r, body := postJSON(t, b, ts.Issuer+"/login/continue", map[string]any{"authRequestID": id})
		if r.StatusCode != 200 {
			t.Fatalf("continue: %d %v", r.StatusCode, body)
		}
		cb := followCallback(t, b, body["redirect"].(string))
		if _, err := app2.config.Exchange(app2.ctx, cb.Query().Get("code"), oauth2.VerifierOption(v)); err != nil {
			t.Fatalf("code from continue: %v", err)
		}
	})
	t.Run("another browser cannot continue it", func(t *testing.T) {
		u, _ := authURL()
		id := authorize(t, ts, b, u)
		if r, body := postJSON(t, browser(), ts.Issuer+"/login/continue", map[string]any{"authRequestID": id}); r.StatusCode != 400 || body["error"] != "invalid_request" {
			t.Fatalf("continue from another browser: %d %v", r.StatusCode, body)
		}
	})
	t.Run("prompt=login asks for a signature", func(t *testing.T) {
		u, _ := authURL(oauth2.SetAuthURLParam("prompt", "login"))
		id := authorize(t, ts, b, u)
		resp, _ := b.Get(ts.Issuer + "/login?authRequestID=" + url.QueryEscape(id))
		if page := readAll(t, resp); strings.Contains(page, "Continue as") {
			t.Fatal("prompt=login offered the session")
		}
		if r, body := postJSON(t, b, ts.Issuer+"/login/continue", map[string]any{"authRequestID": id}); r.StatusCode != 400 {
			t.Fatalf("continue with prompt=login: %d %v", r.StatusCode, body)
		}
	})
	t.Run("another browser has no session", func(t *testing.T) {
		u, _ := authURL(oauth2.SetAuthURLParam("prompt", "none"))
		_, final, _ := follow(t, browser(), u)
		if final.Query().Get("error") != "login_required" {
			t.Fatalf("landed on %s, want login_required", final)
		}
	})
	t.Run("max_age shorter than the time since the signature", func(t *testing.T) {
		clock.Advance(10 * time.Minute)
		u, _ := authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("max_age", "300"))
		_, final, _ := follow(t, b, u)
		if final.Query().Get("error") != "login_required" {
			t.Fatalf("landed on %s, want login_required", final)
		}
		u, _ = authURL(oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("max_age", "3600"))
		if _, final, _ := follow(t, b, u); final.Query().Get("code") == "" {
			t.Fatalf("max_age within the session: landed on %s", final)
		}
	})
	t.Run("end_session ends it", func(t *testing.T) {
		resp, err := b.Get(ts.Issuer + "/end_session?client_id=" + url.QueryEscape(second.ID))
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		u, _ := authURL(oauth2.SetAuthURLParam("prompt", "none"))
		if _, final, _ := follow(t, b, u); final.Query().Get("error") != "login_required" {
			t.Fatalf("after end_session: landed on %s, want login_required", final)
		}
	})
	t.Run("the session expires", func(t *testing.T) {
		b := browser()
		id := authorize(t, ts, b, app1.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v2v")))
		signIn(t, ts, b, id, w)
		clock.Advance(8*time.Hour + time.Second)
		u, _ := authURL(oauth2.SetAuthURLParam("prompt", "none"))
		if _, final, _ := follow(t, b, u); final.Query().Get("error") != "login_required" {
			t.Fatalf("after the session's lifetime: landed on %s", final)
		}
	})
}

// TestNoSessionsByDefault: without sessions.ttl, prompt=none is
// login_required even right after a sign-in, and the page offers nothing.
func TestNoSessionsByDefault(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	b := browser()
	id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v")))
	signIn(t, ts, b, id, newWallet(t))
	_, final, _ := follow(t, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("prompt", "none")))
	if final.Query().Get("error") != "login_required" {
		t.Fatalf("landed on %s, want login_required", final)
	}
}
