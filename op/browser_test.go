package op_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/browsertest"
	"github.com/signet-id/signet/internal/demo"
	"github.com/signet-id/signet/op"
)

// These tests drive the real login page (web/templates/login.html and
// web/static/login.js) in headless Chromium against a real Signet. A test
// wallet is injected into every page before the page's own scripts run: an
// EIP-1193 provider, also announced through EIP-6963, whose personal_sign is
// answered by a Go key through a DevTools binding. Requests to the client's
// redirect URI (where nothing listens) are intercepted and answered with a
// small page, so the test sees exactly where the browser was sent.

// openLogin navigates to the authorize URL, which must redirect to the
// login page with its button.
func openLogin(ctx context.Context, c *browsertest.Chrome, ts *testServer, authURL string) {
	var href string
	c.Run(ctx, "open the authorize URL",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(`#signin`, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	u, err := url.Parse(href)
	if err != nil || u.Scheme+"://"+u.Host != ts.Issuer || u.Path != "/login" || u.Query().Get("authRequestID") == "" {
		c.Fatalf("authorize led to %s, want %s/login?authRequestID=…", href, ts.Issuer)
	}
	s, err := c.State(ctx)
	if err != nil {
		c.Fatalf("read the login page: %v", err)
	}
	if s.ButtonText != "Sign in with Ethereum" || s.ButtonDisabled {
		c.Fatalf("login button = %q (disabled=%t), want an enabled \"Sign in with Ethereum\"", s.ButtonText, s.ButtonDisabled)
	}
	if s.ErrorShown {
		c.Fatalf("the login page shows an error before anything happened: %q", s.Error)
	}
}

// browserFlow is one authorization request from a relying party.
type browserFlow struct {
	ts       *testServer
	app      *rp
	clientID string
	verifier string
	state    string
	nonce    string
	authURL  string
}

func newBrowserFlow(t *testing.T, ts *testServer) *browserFlow {
	t.Helper()
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	f := &browserFlow{
		ts:       ts,
		app:      newRP(t, ts, c.ID, secret, "siwe"),
		clientID: c.ID,
		verifier: oauth2.GenerateVerifier(),
		state:    "state-" + oauth2.GenerateVerifier()[:16],
		nonce:    "nonce-" + oauth2.GenerateVerifier()[:16],
	}
	f.authURL = f.app.config.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), oidc.Nonce(f.nonce))
	return f
}

// checkCallback checks where the browser landed, redeems the code and
// verifies the ID token; it returns the ID token's claims.
func (f *browserFlow) checkCallback(c *browsertest.Chrome, cb *url.URL, w *wallet) map[string]any {
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		c.Fatalf("browser went to %s, want %s", cb, testRedirect)
	}
	q := cb.Query()
	if q.Get("error") != "" {
		c.Fatalf("redirect carries an error: %s", cb)
	}
	if q.Get("code") == "" || q.Get("state") != f.state || q.Get("iss") != f.ts.Issuer {
		c.Fatalf("redirect %s: want a code, state=%q and iss=%q", cb, f.state, f.ts.Issuer)
	}
	tok, err := f.app.config.Exchange(f.app.ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		c.Fatalf("exchange the code from the browser: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.app.verifier.Verify(f.app.ctx, raw)
	if err != nil {
		c.Fatalf("ID token does not verify: %v", err)
	}
	if want := "eip155:1:" + w.Address(); idt.Subject != want {
		c.Fatalf("ID token sub = %q, want %q", idt.Subject, want)
	}
	if idt.Nonce != f.nonce || idt.Issuer != f.ts.Issuer {
		c.Fatalf("ID token nonce = %q iss = %q, want %q and %q", idt.Nonce, idt.Issuer, f.nonce, f.ts.Issuer)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		c.Fatalf("ID token claims: %v", err)
	}
	return claims
}

// checkSigned checks the one message the wallet signed and that the ID
// token carries exactly it and its signature, so the page posted what the
// wallet returned.
func checkSigned(c *browsertest.Chrome, ts *testServer, w *wallet, claims map[string]any) {
	r := c.Snapshot()
	signed := r.Signed
	if len(r.WalletErrs) > 0 {
		c.Fatalf("the page called personal_sign wrongly: %q", r.WalletErrs)
	}
	if len(signed) != 1 {
		c.Fatalf("wallet signed %d messages, want 1", len(signed))
	}
	host := strings.TrimPrefix(ts.Issuer, "http://")
	want := host + " wants you to sign in with your Ethereum account:\n" + w.Address() + "\n"
	if m := signed[0].Message; !strings.HasPrefix(m, want) || !strings.Contains(m, "\nChain ID: 1\n") || !strings.Contains(m, "\nURI: "+ts.Issuer) {
		c.Fatalf("signed message is not this sign-in's EIP-4361 message:\n%s", m)
	}
	if claims["siwe_message"] != signed[0].Message || claims["siwe_signature"] != signed[0].Signature {
		c.Fatalf("ID token siwe_message/siwe_signature = %q / %v, want what the wallet signed:\n%s\n%s",
			claims["siwe_message"], claims["siwe_signature"], signed[0].Message, signed[0].Signature)
	}
}

// countRequests counts the tab's requests with this method and URL prefix.
func countRequests(requests []string, method, prefix string) int {
	n := 0
	for _, r := range requests {
		if strings.HasPrefix(r, method+" "+prefix) {
			n++
		}
	}
	return n
}

// TestBrowserSignIn signs in through the login page in Chromium with an
// injected wallet: authorize → login page → button → wallet signs →
// redirect URI with code, state and iss → code redeemed → ID token for the
// wallet's address. Once with an EIP-6963 wallet (which the page must
// prefer over window.ethereum), once with only window.ethereum.
func TestBrowserSignIn(t *testing.T) {
	bin := browsertest.Find(t)
	for _, tc := range []struct {
		name string
		mode browsertest.Mode
		via  string
	}{
		{"EIP-6963", browsertest.Announce, "eip6963:"},
		{"window.ethereum", browsertest.Legacy, "window.ethereum:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			ts := newTestServer(t, nil)
			w := newWallet(t)
			f := newBrowserFlow(t, ts)
			c := browsertest.New(t, bin, w, tc.mode, testRedirect)
			ctx, cancel := context.WithTimeout(c.Ctx(), browsertest.Timeout)
			defer cancel()

			openLogin(ctx, c, ts, f.authURL)
			if tc.mode == browsertest.Announce {
				// An announced wallet is shown by name before the click.
				var names string
				c.Run(ctx, "wait for the wallet list",
					chromedp.WaitVisible(`#wallets`, chromedp.ByQuery),
					chromedp.Text(`#wallet-list`, &names, chromedp.ByQuery),
				)
				if !strings.Contains(names, "Signet Test Wallet") {
					c.Fatalf("wallet list = %q, want the announced wallet's name", names)
				}
			}
			c.ClickSignIn(ctx)
			cb := c.WaitLanded(ctx)
			claims := f.checkCallback(c, cb, w)
			checkSigned(c, ts, w, claims)

			r := c.Snapshot()
			want := []string{tc.via + "eth_requestAccounts", tc.via + "eth_chainId", tc.via + "personal_sign"}
			if !slices.Equal(r.WalletCalls, want) {
				c.Fatalf("wallet calls = %q, want %q", r.WalletCalls, want)
			}
			if n := countRequests(r.Requests, "POST", ts.Issuer+"/login/verify"); n != 1 {
				c.Fatalf("page posted /login/verify %d times, want 1", n)
			}
			t.Logf("signed in through the browser in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestBrowserRejectedSignature: the wallet refuses personal_sign (EIP-1193
// code 4001). The page must say so, offer the button again and stay put;
// a second try with a willing wallet then signs in.
func TestBrowserRejectedSignature(t *testing.T) {
	bin := browsertest.Find(t)
	start := time.Now()
	ts := newTestServer(t, nil)
	w := newWallet(t)
	f := newBrowserFlow(t, ts)
	c := browsertest.New(t, bin, w, browsertest.Announce, testRedirect)
	ctx, cancel := context.WithTimeout(c.Ctx(), browsertest.Timeout)
	defer cancel()

	openLogin(ctx, c, ts, f.authURL)
	c.Run(ctx, "make the wallet refuse", chromedp.Evaluate(`window.__signetTestWallet.rejectSign = true`, nil))
	c.ClickSignIn(ctx)
	s := c.WaitError(ctx)
	if s.Error != "You rejected the signature request." {
		c.Fatalf("#error = %q, want the page to say the signature was rejected", s.Error)
	}
	if s.ButtonDisabled {
		c.Fatalf("button still disabled after the rejection")
	}
	if u, err := url.Parse(s.Href); err != nil || u.Path != "/login" {
		c.Fatalf("page left the login page: %s", s.Href)
	}
	r := c.Snapshot()
	if n := len(r.WalletCalls); n == 0 || r.WalletCalls[n-1] != "eip6963:personal_sign" {
		c.Fatalf("the error did not follow a signature request (wallet calls %q)", r.WalletCalls)
	}
	if len(r.Landed) > 0 || len(r.Signed) > 0 {
		c.Fatalf("after the rejection: redirect URI loads %q, signatures %d; want none", r.Landed, len(r.Signed))
	}
	if n := countRequests(r.Requests, "POST", ts.Issuer+"/login/verify"); n != 0 {
		c.Fatalf("page posted /login/verify %d times without a signature", n)
	}

	// Retry: the person changes their mind.
	c.Run(ctx, "make the wallet sign", chromedp.Evaluate(`window.__signetTestWallet.rejectSign = false`, nil))
	c.ClickSignIn(ctx)
	var cleared bool
	c.Run(ctx, "wait for the retry to clear #error", chromedp.Poll(`(function () {
  var e = document.getElementById('error');
  return !e || e.hidden;
})()`, &cleared,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(0)))
	cb := c.WaitLanded(ctx)
	claims := f.checkCallback(c, cb, w)
	checkSigned(c, ts, w, claims)
	t.Logf("rejected, retried and signed in in %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserNoWallet: without any wallet the page says so and keeps the
// button usable.
func TestBrowserNoWallet(t *testing.T) {
	bin := browsertest.Find(t)
	start := time.Now()
	ts := newTestServer(t, nil)
	f := newBrowserFlow(t, ts)
	c := browsertest.New(t, bin, nil, browsertest.NoWallet, testRedirect)
	ctx, cancel := context.WithTimeout(c.Ctx(), browsertest.Timeout)
	defer cancel()

	openLogin(ctx, c, ts, f.authURL)
	// The page says so at once, before anyone clicks, with a way to get one.
	var notice string
	c.Run(ctx, "wait for the no-wallet notice",
		chromedp.WaitVisible(`#no-wallet`, chromedp.ByQuery),
		chromedp.Text(`#no-wallet`, &notice, chromedp.ByQuery),
	)
	if !strings.Contains(notice, "No Ethereum wallet was found") || !strings.Contains(notice, "Find a wallet") {
		c.Fatalf("#no-wallet = %q", notice)
	}
	c.ClickSignIn(ctx)
	s := c.WaitError(ctx)
	if !strings.Contains(s.Error, "No Ethereum wallet found") {
		c.Fatalf("#error = %q, want it to say no wallet was found", s.Error)
	}
	if s.ButtonDisabled {
		c.Fatalf("button still disabled")
	}
	r := c.Snapshot()
	if len(r.Landed) > 0 || countRequests(r.Requests, "POST", ts.Issuer+"/login/") > 0 {
		c.Fatalf("without a wallet the page still talked to Signet or left: %q", r.Landed)
	}
	t.Logf("no-wallet message shown in %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserDemo is the dev-mode tour as a person takes it: /demo, "Sign in
// with Signet", the login page, the wallet, and back on the demo's result
// page with the ID-token claims it verified against the JWKS.
func TestBrowserDemo(t *testing.T) {
	bin := browsertest.Find(t)
	ts := newTestServer(t, nil, func(c *op.Config) { c.Demo = true })
	ts.addClient(t, clients.Params{ID: demo.ClientID, Name: "Signet demo app", Public: true, RedirectURIs: []string{demo.RedirectURI(ts.Issuer)}})
	w := newWallet(t)
	c := browsertest.New(t, bin, w, browsertest.Announce, testRedirect)
	ctx, cancel := context.WithTimeout(c.Ctx(), browsertest.Timeout)
	defer cancel()

	var href string
	c.Run(ctx, "open the demo and start",
		chromedp.Navigate(ts.Issuer+"/demo"),
		chromedp.Click(`#start`, chromedp.ByQuery),
		chromedp.WaitVisible(`#signin`, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	if !strings.HasPrefix(href, ts.Issuer+"/login?authRequestID=") {
		c.Fatalf("the demo led to %s, want the login page", href)
	}
	c.ClickSignIn(ctx)
	var claims string
	c.Run(ctx, "wait for the demo's result page",
		chromedp.WaitVisible(`#claims`, chromedp.ByQuery),
		chromedp.Text(`#claims`, &claims, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	if !strings.HasPrefix(href, ts.Issuer+"/demo/callback") || !strings.Contains(claims, "eip155:1:"+w.Address()) {
		c.Fatalf("demo result at %s shows claims %q, want the wallet's subject", href, claims)
	}
}
