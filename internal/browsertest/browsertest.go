// Package browsertest drives the real login page in headless Chromium
// with an injected test wallet: an EIP-1193 provider, also announced
// through EIP-6963, whose personal_sign is answered by a Go key through a
// DevTools binding. Page loads from an app's origin can be intercepted and
// answered with a small page, so a test sees exactly where the browser was
// sent. It is test support: every helper takes a testing.TB and fails the
// test on error.
package browsertest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/signet-id/signet/internal/storagetest"
)

// Wallet is the key the injected wallet signs with.
type Wallet interface {
	Address() string
	// Sign is personal_sign: EIP-191 over the exact message, hex.
	Sign(t testing.TB, message string) string
}

// Ctx is the tab's context; it lives until the test ends.
func (c *Chrome) Ctx() context.Context { return c.ctx }

// Timeout bounds everything one browser test waits for.
const Timeout = 60 * time.Second

// callbackPage answers the intercepted request to the redirect URI.
const callbackPage = `<!doctype html><meta charset="utf-8"><title>Test app callback</title><p id="callback">Back at the app.</p>`

// Signed is one personal_sign the Go wallet answered.
type Signed struct {
	Message   string
	Signature string
}

// Chrome is one headless Chromium tab with its event log.
type Chrome struct {
	t         testing.TB
	ctx       context.Context // the tab; it lives until the test ends
	w         Wallet
	intercept string // the origin whose page loads are answered here ("" for none)

	landedCh chan string

	mu          sync.Mutex
	landed      []string // page loads from the redirect URI's origin
	requests    []string // "METHOD URL" of every request the tab made
	console     []string // console output, uncaught exceptions, chromedp errors
	signed      []Signed
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

// Find returns the path of a Chromium or Chrome binary, or skips
// the test (fails it when SIGNET_TEST_REQUIRE_ALL is set, as in CI).
func Find(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	storagetest.Skip(t, "chromium not found; browser tests skipped")
	return ""
}

// allocatorOptions are the flags that run Chromium headless here: no
// sandbox, GPU or background networking, a fresh profile.
func allocatorOptions(bin, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
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
}

// New starts headless Chromium (bin) with a fresh profile,
// intercepting requests to testRedirect's origin and, unless mode is
// NoWallet, injecting a test wallet for w into every page.
func New(t testing.TB, bin string, w Wallet, mode Mode, intercept string) *Chrome {
	t.Helper()
	profile := t.TempDir() // created before the cleanup below, so removed after Chromium exits

	opts := allocatorOptions(bin, profile)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	c := &Chrome{t: t, w: w, intercept: intercept, landedCh: make(chan string, 8)}
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

	setup := c.setup(intercept, mode)
	// The first Run starts the browser and binds it to ctx, so it must not
	// run under a deadline; the timer bounds a browser that never comes up.
	start := time.Now()
	guard := time.AfterFunc(Timeout, cancelTab)
	err := chromedp.Run(ctx, append(setup, chromedp.ActionFunc(func(context.Context) error { return nil }))...)
	guard.Stop()
	if err != nil {
		t.Fatalf("start %s: %v (after %s)\n%s", bin, err, time.Since(start).Round(time.Millisecond), c.Log())
	}
	t.Logf("chromium started in %s", time.Since(start).Round(time.Millisecond))
	return c
}

// setup is what the tab does first: intercept the app's origin, and inject
// the wallet.
func (c *Chrome) setup(intercept string, mode Mode) []chromedp.Action {
	var setup []chromedp.Action
	if intercept != "" {
		redirect, err := url.Parse(intercept)
		if err != nil {
			c.t.Fatal(err)
		}
		setup = append(setup, fetch.Enable().WithPatterns([]*fetch.RequestPattern{{URLPattern: redirect.Scheme + "://" + redirect.Host + "/*"}}))
	}
	if mode != NoWallet {
		addr, _ := json.Marshal(c.w.Address())
		name, _ := json.Marshal(walletBinding)
		script := fmt.Sprintf(walletScript, addr, name, mode == Announce)
		setup = append(setup,
			runtime.AddBinding(walletBinding),
			chromedp.ActionFunc(func(ctx context.Context) error {
				_, err := page.AddScriptToEvaluateOnNewDocument(script).Do(ctx)
				return err
			}),
		)
	}
	return setup
}

func (c *Chrome) logf(format string, args ...any) {
	c.mu.Lock()
	c.console = append(c.console, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// onPaused answers a page load from the app's origin with a small page.
func (c *Chrome) onPaused(ev *fetch.EventRequestPaused) {
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
}

// onEvent runs on chromedp's event loop: it must not block, so commands
// are sent from goroutines.
func (c *Chrome) onEvent(ev any) {
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		c.onPaused(ev)
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

// Log is everything recorded so far, for failure messages.
func (c *Chrome) Log() string {
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
