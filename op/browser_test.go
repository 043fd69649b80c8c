package op_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/demo"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/op"
)

// These tests drive the real login page (web/templates/login.html and
// web/static/login.js) in headless Chromium against a real Signet. A test
// wallet is injected into every page before the page's own scripts run: an
// EIP-1193 provider, also announced through EIP-6963, whose personal_sign is
// answered by a Go key through a DevTools binding. Requests to the client's
// redirect URI (where nothing listens) are intercepted and answered with a
// small page, so the test sees exactly where the browser was sent.

// browserTestTimeout bounds everything one browser test waits for.
const browserTestTimeout = 60 * time.Second

// walletBinding is the function the injected wallet calls to have Go sign.
const walletBinding = "__signetTestWalletSign"

// walletMode says which test wallet, if any, a page gets.
type walletMode int

const (
	noWallet       walletMode = iota
	walletAnnounce            // EIP-6963 announcement plus window.ethereum, like current wallets
	walletLegacy              // window.ethereum only, like older wallets
)

// walletScript is the injected wallet. %[1]s is the address (a JSON
// string), %[2]s the binding's name (a JSON string), %[3]t whether to
// announce via EIP-6963. Each provider object tags its calls, so the test
// can tell which one the page used; every call is reported to Go, where
// the record survives navigations.
const walletScript = `(function () {
  'use strict';
  var address = %[1]s;
  var binding = %[2]s;
  var announceIt = %[3]t;
  var state = { rejectSign: false, next: 0, pending: {} };
  state.settle = function (id, result, error) {
    var p = state.pending[id];
    if (!p) { return false; }
    delete state.pending[id];
    if (error) {
      var e = new Error(error.message);
      e.code = error.code;
      p.reject(e);
    } else {
      p.resolve(result);
    }
    return true;
  };
  Object.defineProperty(window, '__signetTestWallet', { value: state });

  function rpcError(code, message) {
    var e = new Error(message);
    e.code = code;
    return e;
  }

  function makeProvider(via) {
    var provider = {
      isSignetTestWallet: true,
      request: function (args) {
        var method = args && args.method;
        var params = (args && args.params) || [];
        window[binding](JSON.stringify({ kind: 'call', call: via + ':' + method }));
        switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return Promise.resolve([address]);
        case 'eth_chainId':
          return Promise.resolve('0x1');
        case 'personal_sign':
          if (state.rejectSign) {
            return Promise.reject(rpcError(4001, 'User rejected the request.'));
          }
          return new Promise(function (resolve, reject) {
            var id = ++state.next;
            state.pending[id] = { resolve: resolve, reject: reject };
            window[binding](JSON.stringify({ kind: 'sign', id: id, params: params }));
          });
        default:
          return Promise.reject(rpcError(4200, 'The test wallet does not support ' + method + '.'));
        }
      },
      on: function () { return provider; },
      removeListener: function () { return provider; }
    };
    return provider;
  }

  window.ethereum = makeProvider('window.ethereum');
  if (announceIt) {
    var detail = Object.freeze({
      info: Object.freeze({
        uuid: '7c3f0e52-4b1a-4c8e-9d0f-2a6b5e8c1d34',
        name: 'Signet Test Wallet',
        icon: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxIDEiPjxyZWN0IHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz48L3N2Zz4=',
        rdns: 'id.signet.test-wallet'
      }),
      provider: makeProvider('eip6963')
    });
    var announce = function () {
      window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: detail }));
    };
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  }
})();`

// callbackPage answers the intercepted request to the redirect URI.
const callbackPage = `<!doctype html><meta charset="utf-8"><title>Test app callback</title><p id="callback">Back at the app.</p>`

// signedMessage is one personal_sign the Go wallet answered.
type signedMessage struct {
	Message   string
	Signature string
}

// chrome is one headless Chromium tab with its event log.
type chrome struct {
	t   *testing.T
	ctx context.Context // the tab; it lives until the test ends
	w   *wallet

	landedCh chan string

	mu          sync.Mutex
	landed      []string // page loads from the redirect URI's origin
	requests    []string // "METHOD URL" of every request the tab made
	console     []string // console output, uncaught exceptions, chromedp errors
	signed      []signedMessage
	walletErrs  []string // personal_sign calls the Go wallet refused
	walletCalls []string // "via:method" of every wallet request, in order
}

// bindingCall is what the injected wallet sends to Go.
type bindingCall struct {
	Kind   string `json:"kind"` // "call" (a report) or "sign" (answer wanted)
	Call   string `json:"call"`
	ID     int64  `json:"id"`
	Params []any  `json:"params"`
}

// needChromium returns the path of a Chromium or Chrome binary, or skips
// the test (fails it when SIGNET_TEST_REQUIRE_ALL is set, as in CI).
func needChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	storagetest.Skip(t, "chromium not found; browser tests skipped")
	return ""
}

// newChrome starts headless Chromium (bin) with a fresh profile,
// intercepting requests to testRedirect's origin and, unless mode is
// noWallet, injecting a test wallet for w into every page.
func newChrome(t *testing.T, bin string, w *wallet, mode walletMode) *chrome {
	t.Helper()
	profile := t.TempDir() // created before the cleanup below, so removed after Chromium exits

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.Flag("no-sandbox", true),
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	c := &chrome{t: t, w: w, landedCh: make(chan string, 8)}
	logf := func(format string, args ...any) { c.logf("chromedp: "+format, args...) }
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf))
	c.ctx = ctx
	t.Cleanup(func() {
		// Close Chromium gracefully (Browser.close) and wait for it to exit:
		// killing it leaves helper processes writing into the profile
		// while t.TempDir removes it.
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		_ = chromedp.Cancel(cctx)
		ccancel()
		cancelTab()
		cancelAlloc()
	})
	chromedp.ListenTarget(ctx, c.onEvent)

	redirect, err := url.Parse(testRedirect)
	if err != nil {
		t.Fatal(err)
	}
	setup := []chromedp.Action{
		fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: redirect.Scheme + "://" + redirect.Host + "/*"}}),
	}
	if mode != noWallet {
		addr, _ := json.Marshal(w.Address())
		name, _ := json.Marshal(walletBinding)
		script := fmt.Sprintf(walletScript, addr, name, mode == walletAnnounce)
		setup = append(setup,
			runtime.AddBinding(walletBinding),
			chromedp.ActionFunc(func(ctx context.Context) error {
				_, err := page.AddScriptToEvaluateOnNewDocument(script).Do(ctx)
				return err
			}),
		)
	}
	// The first Run starts the browser and binds it to ctx, so it must not
	// run under a deadline; the timer bounds a browser that never comes up.
	start := time.Now()
	guard := time.AfterFunc(browserTestTimeout, cancelTab)
	err = chromedp.Run(ctx, setup...)
	guard.Stop()
	if err != nil {
		t.Fatalf("start %s: %v (after %s)\n%s", bin, err, time.Since(start).Round(time.Millisecond), c.log())
	}
	t.Logf("chromium started in %s", time.Since(start).Round(time.Millisecond))
	return c
}

func (c *chrome) logf(format string, args ...any) {
	c.mu.Lock()
	c.console = append(c.console, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// onEvent runs on chromedp's event loop: it must not block, so commands
// are sent from goroutines.
func (c *chrome) onEvent(ev any) {
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		// Every request to the app's origin is answered here; only page
		// loads (not the favicon the answer brings) count as landing.
		if ev.ResourceType == network.ResourceTypeDocument {
			u := ev.Request.URL + ev.Request.URLFragment
			c.mu.Lock()
			c.landed = append(c.landed, u)
			c.mu.Unlock()
			select {
			case c.landedCh <- u:
			default:
			}
		}
		go func() {
			_ = chromedp.Run(c.ctx, fetch.FulfillRequest(ev.RequestID, 200).
				WithResponseHeaders([]*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}}).
				WithBody(base64.StdEncoding.EncodeToString([]byte(callbackPage))))
		}()
	case *network.EventRequestWillBeSent:
		c.mu.Lock()
		c.requests = append(c.requests, ev.Request.Method+" "+ev.Request.URL)
		c.mu.Unlock()
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				parts = append(parts, string(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		c.logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		c.logf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg)
	case *runtime.EventBindingCalled:
		if ev.Name != walletBinding {
			return
		}
		var call bindingCall
		if err := json.Unmarshal([]byte(ev.Payload), &call); err != nil {
			c.logf("wallet: bad binding payload %q: %v", ev.Payload, err)
			return
		}
		switch call.Kind {
		case "call":
			c.mu.Lock()
			c.walletCalls = append(c.walletCalls, call.Call)
			c.mu.Unlock()
		case "sign":
			go c.answerSign(ev.ExecutionContextID, call)
		default:
			c.logf("wallet: unknown binding payload %q", ev.Payload)
		}
	}
}

// answerSign is the Go half of personal_sign: params must be the 0x-hex of
// the message's UTF-8 bytes and the wallet's address (EIP-1474 order).
func (c *chrome) answerSign(execCtx runtime.ExecutionContextID, call bindingCall) {
	settle := func(result, rpcErr any) {
		r, _ := json.Marshal(result)
		e, _ := json.Marshal(rpcErr)
		expr := fmt.Sprintf("window.__signetTestWallet.settle(%d, %s, %s)", call.ID, r, e)
		if err := chromedp.Run(c.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			_, exc, err := runtime.Evaluate(expr).WithContextID(execCtx).Do(ctx)
			if err == nil && exc != nil {
				err = fmt.Errorf("%s", exc.Text)
			}
			return err
		})); err != nil {
			c.logf("wallet: settle personal_sign #%d: %v", call.ID, err)
		}
	}
	refuse := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		c.mu.Lock()
		c.walletErrs = append(c.walletErrs, msg)
		c.mu.Unlock()
		settle(nil, map[string]any{"code": -32602, "message": "test wallet: " + msg})
	}
	if len(call.Params) != 2 {
		refuse("personal_sign params = %v, want [hex message, address]", call.Params)
		return
	}
	hexMsg, _ := call.Params[0].(string)
	addr, _ := call.Params[1].(string)
	if !strings.EqualFold(addr, c.w.Address()) {
		refuse("personal_sign for address %v, want %s (params %v)", call.Params[1], c.w.Address(), call.Params)
		return
	}
	raw, err := hexutil.Decode(hexMsg)
	if err != nil {
		refuse("personal_sign message %q is not 0x-hex: %v", call.Params[0], err)
		return
	}
	msg := string(raw)
	sig := c.w.Sign(c.t, msg)
	c.mu.Lock()
	c.signed = append(c.signed, signedMessage{Message: msg, Signature: sig})
	c.mu.Unlock()
	settle(sig, nil)
}

// log is everything recorded so far, for failure messages.
func (c *chrome) log() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	list := func(l []string) string {
		if len(l) == 0 {
			return " (none)"
		}
		return "\n  " + strings.Join(l, "\n  ")
	}
	fmt.Fprintf(&b, "requests:%s\n", list(c.requests))
	fmt.Fprintf(&b, "console:%s\n", list(c.console))
	fmt.Fprintf(&b, "redirect URI loads: %q\n", c.landed)
	fmt.Fprintf(&b, "wallet calls: %q\n", c.walletCalls)
	fmt.Fprintf(&b, "signatures: %d, refused wallet calls: %q", len(c.signed), c.walletErrs)
	return b.String()
}

// pageState is what the login page shows.
type pageState struct {
	Href           string `json:"href"`
	Error          string `json:"error"`
	ErrorShown     bool   `json:"errorShown"`
	Status         string `json:"status"`
	ButtonText     string `json:"buttonText"`
	ButtonDisabled bool   `json:"buttonDisabled"`
}

const pageStateJS = `(function () {
  function text(id) { var e = document.getElementById(id); return e ? e.textContent.trim() : '(no #' + id + ')'; }
  var err = document.getElementById('error');
  var btn = document.getElementById('signin');
  return {
    href: location.href,
    error: text('error'),
    errorShown: !!err && !err.hidden && err.checkVisibility(),
    status: text('status'),
    buttonText: text('signin'),
    buttonDisabled: !btn || btn.disabled
  };
})()`

func (c *chrome) state(ctx context.Context) (pageState, error) {
	var s pageState
	err := chromedp.Run(ctx, chromedp.Evaluate(pageStateJS, &s))
	return s, err
}

// fatalf fails the test with the page's state, the event log and the path
// of a screenshot. The screenshot and the page's HTML go to a folder that
// outlives the test (t.TempDir would be removed with it).
func (c *chrome) fatalf(format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	var b strings.Builder
	if s, err := c.state(ctx); err != nil {
		fmt.Fprintf(&b, "page state: %v\n", err)
	} else {
		fmt.Fprintf(&b, "page: %s\n#error (shown=%t): %q\n#status: %q\nbutton %q disabled=%t\n",
			s.Href, s.ErrorShown, s.Error, s.Status, s.ButtonText, s.ButtonDisabled)
	}
	var png []byte
	var html string
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png), chromedp.OuterHTML("html", &html, chromedp.ByQuery)); err != nil {
		fmt.Fprintf(&b, "screenshot: %v\n", err)
	}
	if len(png) > 0 {
		name := regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(c.t.Name(), "-")
		if dir, err := os.MkdirTemp("", "signet-"+name+"-"); err != nil {
			fmt.Fprintf(&b, "screenshot: %v\n", err)
		} else {
			shot := filepath.Join(dir, "screenshot.png")
			_ = os.WriteFile(shot, png, 0o644)
			_ = os.WriteFile(filepath.Join(dir, "page.html"), []byte(html), 0o644)
			fmt.Fprintf(&b, "screenshot: %s (page.html beside it)\n", shot)
		}
	}
	c.t.Fatalf("%s\n%s%s", msg, b.String(), c.log())
}

// run runs actions, failing the test with diagnostics on error.
func (c *chrome) run(ctx context.Context, what string, actions ...chromedp.Action) {
	c.t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		c.fatalf("%s: %v", what, err)
	}
}

// openLogin navigates to the authorize URL, which must redirect to the
// login page with its button.
func (c *chrome) openLogin(ctx context.Context, ts *testServer, authURL string) {
	c.t.Helper()
	var href string
	c.run(ctx, "open the authorize URL",
		chromedp.Navigate(authURL),
		chromedp.WaitVisible(`#signin`, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	u, err := url.Parse(href)
	if err != nil || u.Scheme+"://"+u.Host != ts.Issuer || u.Path != "/login" || u.Query().Get("authRequestID") == "" {
		c.fatalf("authorize led to %s, want %s/login?authRequestID=…", href, ts.Issuer)
	}
	s, err := c.state(ctx)
	if err != nil {
		c.fatalf("read the login page: %v", err)
	}
	if s.ButtonText != "Sign in with Ethereum" || s.ButtonDisabled {
		c.fatalf("login button = %q (disabled=%t), want an enabled \"Sign in with Ethereum\"", s.ButtonText, s.ButtonDisabled)
	}
	if s.ErrorShown {
		c.fatalf("the login page shows an error before anything happened: %q", s.Error)
	}
}

// clickSignIn presses the button the way a person finds it: by its text.
func (c *chrome) clickSignIn(ctx context.Context) {
	c.t.Helper()
	c.run(ctx, `click "Sign in with Ethereum"`,
		chromedp.Click(`//button[normalize-space(.)="Sign in with Ethereum"]`, chromedp.BySearch))
}

// waitLanded waits until the browser asks for the client's redirect URI,
// failing at once when the page shows an error instead.
func (c *chrome) waitLanded(ctx context.Context) *url.URL {
	c.t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case raw := <-c.landedCh:
			u, err := url.Parse(raw)
			if err != nil {
				c.fatalf("redirect URI load %q: %v", raw, err)
			}
			return u
		case <-tick.C:
			// Errors here are navigations in progress; the next tick retries.
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			s, err := c.state(pctx)
			cancel()
			if err == nil && s.ErrorShown {
				c.fatalf("the page shows an error instead of going to %s", testRedirect)
			}
		case <-ctx.Done():
			c.fatalf("the browser never reached %s: %v", testRedirect, ctx.Err())
			return nil
		}
	}
}

// waitError waits until #error is shown with some text and returns the
// page's state.
func (c *chrome) waitError(ctx context.Context) pageState {
	c.t.Helper()
	var ok bool
	c.run(ctx, "wait for #error",
		chromedp.Poll(`(function () {
  var e = document.getElementById('error');
  return !!e && !e.hidden && e.checkVisibility() && e.textContent.trim() !== '';
})()`, &ok, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	s, err := c.state(ctx)
	if err != nil {
		c.fatalf("read the login page: %v", err)
	}
	return s
}

// record is a copy of what the tab has done so far.
type record struct {
	landed, requests, walletCalls, walletErrs []string
	signed                                    []signedMessage
}

func (c *chrome) snapshot() record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return record{
		landed:      slices.Clone(c.landed),
		requests:    slices.Clone(c.requests),
		walletCalls: slices.Clone(c.walletCalls),
		walletErrs:  slices.Clone(c.walletErrs),
		signed:      slices.Clone(c.signed),
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
func (f *browserFlow) checkCallback(c *chrome, cb *url.URL, w *wallet) map[string]any {
	c.t.Helper()
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect {
		c.fatalf("browser went to %s, want %s", cb, testRedirect)
	}
	q := cb.Query()
	if q.Get("error") != "" {
		c.fatalf("redirect carries an error: %s", cb)
	}
	if q.Get("code") == "" || q.Get("state") != f.state || q.Get("iss") != f.ts.Issuer {
		c.fatalf("redirect %s: want a code, state=%q and iss=%q", cb, f.state, f.ts.Issuer)
	}
	tok, err := f.app.config.Exchange(f.app.ctx, q.Get("code"), oauth2.VerifierOption(f.verifier))
	if err != nil {
		c.fatalf("exchange the code from the browser: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := f.app.verifier.Verify(f.app.ctx, raw)
	if err != nil {
		c.fatalf("ID token does not verify: %v", err)
	}
	if want := "eip155:1:" + w.Address(); idt.Subject != want {
		c.fatalf("ID token sub = %q, want %q", idt.Subject, want)
	}
	if idt.Nonce != f.nonce || idt.Issuer != f.ts.Issuer {
		c.fatalf("ID token nonce = %q iss = %q, want %q and %q", idt.Nonce, idt.Issuer, f.nonce, f.ts.Issuer)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		c.fatalf("ID token claims: %v", err)
	}
	return claims
}

// checkSigned checks the one message the wallet signed and that the ID
// token carries exactly it and its signature, so the page posted what the
// wallet returned.
func checkSigned(c *chrome, ts *testServer, w *wallet, claims map[string]any) {
	c.t.Helper()
	r := c.snapshot()
	signed := r.signed
	if len(r.walletErrs) > 0 {
		c.fatalf("the page called personal_sign wrongly: %q", r.walletErrs)
	}
	if len(signed) != 1 {
		c.fatalf("wallet signed %d messages, want 1", len(signed))
	}
	host := strings.TrimPrefix(ts.Issuer, "http://")
	want := host + " wants you to sign in with your Ethereum account:\n" + w.Address() + "\n"
	if m := signed[0].Message; !strings.HasPrefix(m, want) || !strings.Contains(m, "\nChain ID: 1\n") || !strings.Contains(m, "\nURI: "+ts.Issuer) {
		c.fatalf("signed message is not this sign-in's EIP-4361 message:\n%s", m)
	}
	if claims["siwe_message"] != signed[0].Message || claims["siwe_signature"] != signed[0].Signature {
		c.fatalf("ID token siwe_message/siwe_signature = %q / %v, want what the wallet signed:\n%s\n%s",
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
	bin := needChromium(t)
	for _, tc := range []struct {
		name string
		mode walletMode
		via  string
	}{
		{"EIP-6963", walletAnnounce, "eip6963:"},
		{"window.ethereum", walletLegacy, "window.ethereum:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			ts := newTestServer(t, nil)
			w := newWallet(t)
			f := newBrowserFlow(t, ts)
			c := newChrome(t, bin, w, tc.mode)
			ctx, cancel := context.WithTimeout(c.ctx, browserTestTimeout)
			defer cancel()

			c.openLogin(ctx, ts, f.authURL)
			if tc.mode == walletAnnounce {
				// An announced wallet is shown by name before the click.
				var names string
				c.run(ctx, "wait for the wallet list",
					chromedp.WaitVisible(`#wallets`, chromedp.ByQuery),
					chromedp.Text(`#wallet-list`, &names, chromedp.ByQuery),
				)
				if !strings.Contains(names, "Signet Test Wallet") {
					c.fatalf("wallet list = %q, want the announced wallet's name", names)
				}
			}
			c.clickSignIn(ctx)
			cb := c.waitLanded(ctx)
			claims := f.checkCallback(c, cb, w)
			checkSigned(c, ts, w, claims)

			r := c.snapshot()
			want := []string{tc.via + "eth_requestAccounts", tc.via + "eth_chainId", tc.via + "personal_sign"}
			if !slices.Equal(r.walletCalls, want) {
				c.fatalf("wallet calls = %q, want %q", r.walletCalls, want)
			}
			if n := countRequests(r.requests, "POST", ts.Issuer+"/login/verify"); n != 1 {
				c.fatalf("page posted /login/verify %d times, want 1", n)
			}
			t.Logf("signed in through the browser in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

// TestBrowserRejectedSignature: the wallet refuses personal_sign (EIP-1193
// code 4001). The page must say so, offer the button again and stay put;
// a second try with a willing wallet then signs in.
func TestBrowserRejectedSignature(t *testing.T) {
	bin := needChromium(t)
	start := time.Now()
	ts := newTestServer(t, nil)
	w := newWallet(t)
	f := newBrowserFlow(t, ts)
	c := newChrome(t, bin, w, walletAnnounce)
	ctx, cancel := context.WithTimeout(c.ctx, browserTestTimeout)
	defer cancel()

	c.openLogin(ctx, ts, f.authURL)
	c.run(ctx, "make the wallet refuse", chromedp.Evaluate(`window.__signetTestWallet.rejectSign = true`, nil))
	c.clickSignIn(ctx)
	s := c.waitError(ctx)
	if s.Error != "You rejected the signature request." {
		c.fatalf("#error = %q, want the page to say the signature was rejected", s.Error)
	}
	if s.ButtonDisabled {
		c.fatalf("button still disabled after the rejection")
	}
	if u, err := url.Parse(s.Href); err != nil || u.Path != "/login" {
		c.fatalf("page left the login page: %s", s.Href)
	}
	r := c.snapshot()
	if n := len(r.walletCalls); n == 0 || r.walletCalls[n-1] != "eip6963:personal_sign" {
		c.fatalf("the error did not follow a signature request (wallet calls %q)", r.walletCalls)
	}
	if len(r.landed) > 0 || len(r.signed) > 0 {
		c.fatalf("after the rejection: redirect URI loads %q, signatures %d; want none", r.landed, len(r.signed))
	}
	if n := countRequests(r.requests, "POST", ts.Issuer+"/login/verify"); n != 0 {
		c.fatalf("page posted /login/verify %d times without a signature", n)
	}

	// Retry: the person changes their mind.
	c.run(ctx, "make the wallet sign", chromedp.Evaluate(`window.__signetTestWallet.rejectSign = false`, nil))
	c.clickSignIn(ctx)
	var cleared bool
	c.run(ctx, "wait for the retry to clear #error", chromedp.Poll(`(function () {
  var e = document.getElementById('error');
  return !e || e.hidden;
})()`, &cleared,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(0)))
	cb := c.waitLanded(ctx)
	claims := f.checkCallback(c, cb, w)
	checkSigned(c, ts, w, claims)
	t.Logf("rejected, retried and signed in in %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserNoWallet: without any wallet the page says so and keeps the
// button usable.
func TestBrowserNoWallet(t *testing.T) {
	bin := needChromium(t)
	start := time.Now()
	ts := newTestServer(t, nil)
	f := newBrowserFlow(t, ts)
	c := newChrome(t, bin, nil, noWallet)
	ctx, cancel := context.WithTimeout(c.ctx, browserTestTimeout)
	defer cancel()

	c.openLogin(ctx, ts, f.authURL)
	// The page says so at once, before anyone clicks, with a way to get one.
	var notice string
	c.run(ctx, "wait for the no-wallet notice",
		chromedp.WaitVisible(`#no-wallet`, chromedp.ByQuery),
		chromedp.Text(`#no-wallet`, &notice, chromedp.ByQuery),
	)
	if !strings.Contains(notice, "No Ethereum wallet was found") || !strings.Contains(notice, "Find a wallet") {
		c.fatalf("#no-wallet = %q", notice)
	}
	c.clickSignIn(ctx)
	s := c.waitError(ctx)
	if !strings.Contains(s.Error, "No Ethereum wallet found") {
		c.fatalf("#error = %q, want it to say no wallet was found", s.Error)
	}
	if s.ButtonDisabled {
		c.fatalf("button still disabled")
	}
	r := c.snapshot()
	if len(r.landed) > 0 || countRequests(r.requests, "POST", ts.Issuer+"/login/") > 0 {
		c.fatalf("without a wallet the page still talked to Signet or left: %q", r.landed)
	}
	t.Logf("no-wallet message shown in %s", time.Since(start).Round(time.Millisecond))
}

// TestBrowserDemo is the dev-mode tour as a person takes it: /demo, "Sign in
// with Signet", the login page, the wallet, and back on the demo's result
// page with the ID-token claims it verified against the JWKS.
func TestBrowserDemo(t *testing.T) {
	bin := needChromium(t)
	ts := newTestServer(t, nil, func(c *op.Config) { c.Demo = true })
	ts.addClient(t, clients.Params{ID: demo.ClientID, Name: "Signet demo app", Public: true, RedirectURIs: []string{demo.RedirectURI(ts.Issuer)}})
	w := newWallet(t)
	c := newChrome(t, bin, w, walletAnnounce)
	ctx, cancel := context.WithTimeout(c.ctx, browserTestTimeout)
	defer cancel()

	var href string
	c.run(ctx, "open the demo and start",
		chromedp.Navigate(ts.Issuer+"/demo"),
		chromedp.Click(`#start`, chromedp.ByQuery),
		chromedp.WaitVisible(`#signin`, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	if !strings.HasPrefix(href, ts.Issuer+"/login?authRequestID=") {
		c.fatalf("the demo led to %s, want the login page", href)
	}
	c.clickSignIn(ctx)
	var claims string
	c.run(ctx, "wait for the demo's result page",
		chromedp.WaitVisible(`#claims`, chromedp.ByQuery),
		chromedp.Text(`#claims`, &claims, chromedp.ByQuery),
		chromedp.Location(&href),
	)
	if !strings.HasPrefix(href, ts.Issuer+"/demo/callback") || !strings.Contains(claims, "eip155:1:"+w.Address()) {
		c.fatalf("demo result at %s shows claims %q, want the wallet's subject", href, claims)
	}
}
