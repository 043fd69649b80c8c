package op_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/op"
)

// clientFrom is an HTTP client whose connections leave from source, a
// loopback address such as 127.0.0.7, so that the server sees a caller of
// its own. It keeps cookies and does not follow redirects.
func clientFrom(t testing.TB, source string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 10 * time.Second}
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TestStolenCodeAttack is the attack of a security review: someone who
// knows a sign-in's authRequestID (it is in the login URL) polls
// /authorize/callback while the person signs, to take the code. With the
// browser binding the poller never gets a code, and the person's browser
// gets its own.
func TestStolenCodeAttack(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Public: true})
	app := newRP(t, ts, pub.ID, "")

	victim := browser()
	verifier := oauth2.GenerateVerifier()
	id := authorize(t, ts, victim, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	callback := ts.Issuer + "/authorize/callback?id=" + url.QueryEscape(id)

	ctx, stop := context.WithCancel(context.Background())
	var polls, stolen atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		attacker := clientFrom(t, "127.0.0.6") // its own budget: the victim is not rate limited by it
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, callback, nil)
			resp, err := attacker.Do(req)
			if err != nil {
				continue
			}
			resp.Body.Close()
			polls.Add(1)
			if strings.Contains(resp.Header.Get("Location"), "code=") {
				stolen.Add(1)
			}
		}
	}()
	for polls.Load() < 3 { // the poller is running before the person signs
		time.Sleep(time.Millisecond)
	}
	// The person signs, as the login page does; the poller gets a few more
	// tries before their browser follows the redirect to the callback.
	w := newWallet(t)
	_, ch := postJSON(t, victim, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
	resp, v := postJSON(t, victim, ts.Issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": w.Sign(t, ch["message"].(string))})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %v", resp.StatusCode, v)
	}
	for n := polls.Load(); polls.Load() < n+5; {
		time.Sleep(time.Millisecond)
	}
	cb := followCallback(t, victim, v["redirect"].(string))
	stop()
	wg.Wait()

	if stolen.Load() != 0 {
		t.Fatalf("the poller got a code %d times in %d polls", stolen.Load(), polls.Load())
	}
	code := cb.Query().Get("code")
	if code == "" || cb.Query().Get("error") != "" {
		t.Fatalf("the person's browser landed on %s, want a code", cb)
	}
	if _, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("the person's code does not redeem: %v", err)
	}

	// A second callback, even from the right browser, issues no second code.
	again := followCallback(t, victim, callback)
	if again.Query().Get("error") != "invalid_request" || again.Query().Get("code") != "" {
		t.Fatalf("second callback landed on %s, want error=invalid_request", again)
	}
}

// TestLoginLinkInAnotherBrowser: an attacker starts /authorize with its own
// PKCE verifier and sends the login link to someone. Their browser is
// refused at every step, with words on the page.
func TestLoginLinkInAnotherBrowser(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Public: true})
	app := newRP(t, ts, pub.ID, "")
	attacker := browser()
	id := authorize(t, ts, attacker, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))

	victim := browser()
	resp, err := victim.Get(ts.Issuer + "/login?authRequestID=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	page := readAll(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "another browser") || !strings.Contains(page, "127.0.0.1:9") {
		t.Fatalf("login page in another browser: %d %s", resp.StatusCode, page)
	}
	w := newWallet(t)
	r, body := postJSON(t, victim, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
	if r.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
		t.Fatalf("challenge from another browser: %d %v", r.StatusCode, body)
	}
	// The attacker's own browser can still go on (with its own wallet):
	// the binding protects people, not a request from its starter.
	r, body = postJSON(t, attacker, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("challenge from the starting browser: %d %v", r.StatusCode, body)
	}
}

// TestBindingCookie checks the cookie's attributes (RFC 6265bis).
func TestBindingCookie(t *testing.T) {
	ts := newTestServer(t, nil)
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Public: true})
	app := newRP(t, ts, pub.ID, "")
	resp, err := browser().Get(app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"signet_browser=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %q", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("Set-Cookie %q is Secure on a plain-http issuer: browsers would drop it", set)
	}
}

// TestAuthorizeBounds: /authorize refuses attacker-sized parameters before
// storing anything, and is rate limited per IP.
func TestAuthorizeBounds(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.RateLimits.PerIP = 8 })
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Public: true})
	app := newRP(t, ts, pub.ID, "")
	get := func(c *http.Client, u string) (int, string) {
		t.Helper()
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(t, resp)
	}
	for _, p := range []string{"state", "nonce", "login_hint", "ui_locales", "acr_values"} {
		t.Run(p, func(t *testing.T) {
			u := app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam(p, strings.Repeat("x", 3000)))
			status, page := get(clientFrom(t, "127.0.0.21"), u)
			if status != http.StatusBadRequest || !strings.Contains(page, "invalid_request") || !strings.Contains(page, p+" parameter is too long") {
				t.Fatalf("%s of 3000 bytes: %d %s", p, status, page)
			}
		})
	}
	t.Run("a large POST body", func(t *testing.T) {
		form := url.Values{"client_id": {pub.ID}, "state": {strings.Repeat("x", 1<<20)}}
		resp, err := clientFrom(t, "127.0.0.22").PostForm(ts.Issuer+"/authorize", form)
		if err != nil {
			t.Fatal(err)
		}
		if page := readAll(t, resp); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("1 MiB form: %d %s", resp.StatusCode, page)
		}
	})
	t.Run("rate limit", func(t *testing.T) {
		c := clientFrom(t, "127.0.0.23")
		u := app.config.AuthCodeURL("s", oauth2.S256ChallengeOption("v"))
		for i := range 8 {
			if status, page := get(c, u); status != http.StatusFound {
				t.Fatalf("request %d: %d %s", i, status, page)
			}
		}
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("9th request: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		// Another caller keeps its own budget.
		if status, page := get(clientFrom(t, "127.0.0.24"), u); status != http.StatusFound {
			t.Fatalf("another caller: %d %s", status, page)
		}
	})
}

// TestNobodyCanLockOutALicense: a developer license's address is public
// (it is the client ID), so anyone can ask for challenges in its name and
// fail them. Two attacking hosts doing so at their own limits must not
// cost the license's real backend a single sign-in.
func TestNobodyCanLockOutALicense(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 30, PerAddress: 6, Window: time.Minute}
	})
	signer := newWallet(t)
	license := newWallet(t).Address()
	ts.addClient(t, clients.Params{License: license, ChainID: 1, Signers: []string{signer.Address()}, RedirectURIs: []string{testRedirect}, Public: true})

	generate := func(c *http.Client) (*http.Response, map[string]any) {
		q := url.Values{"client_id": {license}, "domain": {testRedirect}, "scope": {"openid"}, "response_type": {"code"}, "address": {license}}
		resp, err := c.Post(ts.Issuer+"/auth/web3/generate_challenge?"+q.Encode(), "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp, decodeBody(t, resp)
	}
	submit := func(c *http.Client, state, sig string) (*http.Response, map[string]any) {
		form := url.Values{"client_id": {license}, "domain": {testRedirect}, "grant_type": {"authorization_code"}, "state": {state}, "signature": {sig}}
		resp, err := c.PostForm(ts.Issuer+"/auth/web3/submit_challenge", form)
		if err != nil {
			t.Fatal(err)
		}
		return resp, decodeBody(t, resp)
	}
	// The attackers spend everything they are given: challenges for the
	// license, and failed verifications of them.
	for _, ip := range []string{"127.0.0.7", "127.0.0.8"} {
		c := clientFrom(t, ip)
		limited := false
		for range 40 {
			resp, ch := generate(c)
			if resp.StatusCode == http.StatusTooManyRequests {
				limited = true
				break
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("attacker %s: %d %v", ip, resp.StatusCode, ch)
			}
			submit(c, ch["state"].(string), newWallet(t).Sign(t, ch["challenge"].(string)))
		}
		if !limited {
			t.Fatalf("attacker %s was never rate limited", ip)
		}
	}
	backend := clientFrom(t, "127.0.0.9")
	for i := range 6 {
		resp, ch := generate(backend)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("backend challenge %d: %d %v", i, resp.StatusCode, ch)
		}
		resp, tok := submit(backend, ch["state"].(string), signer.Sign(t, ch["challenge"].(string)))
		if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
			t.Fatalf("backend sign-in %d: %d %v", i, resp.StatusCode, tok)
		}
	}
}
