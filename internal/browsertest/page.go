package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// PageState is what the login page shows.
type PageState struct {
	Href           string `json:"href"`
	Error          string `json:"error"`
	ErrorShown     bool   `json:"errorShown"`
	Status         string `json:"status"`
	ButtonText     string `json:"buttonText"`
	ButtonDisabled bool   `json:"buttonDisabled"`
}

const PageStateJS = `(function () {
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

func (c *Chrome) State(ctx context.Context) (PageState, error) {
	var s PageState
	err := chromedp.Run(ctx, chromedp.Evaluate(PageStateJS, &s))
	return s, err
}

// Fatalf fails the test with the page's state, the event log and the path
// of a screenshot. The screenshot and the page's HTML go to a folder that
// outlives the test (t.TempDir would be removed with it).
func (c *Chrome) Fatalf(format string, args ...any) {
	c.t.Helper()
	msg := fmt.Sprintf(format, args...)
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	var b strings.Builder
	if s, err := c.State(ctx); err != nil {
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
	c.t.Fatalf("%s\n%s%s", msg, b.String(), c.Log())
}

// Run runs actions, failing the test with diagnostics on error.
func (c *Chrome) Run(ctx context.Context, what string, actions ...chromedp.Action) {
	c.t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		c.Fatalf("%s: %v", what, err)
	}
}

// ClickSignIn presses the button the way a person finds it: by its text.
func (c *Chrome) ClickSignIn(ctx context.Context) {
	c.t.Helper()
	c.Run(ctx, `click "Sign in with Ethereum"`,
		chromedp.Click(`//button[normalize-space(.)="Sign in with Ethereum"]`, chromedp.BySearch))
}

// WaitLanded waits until the browser asks for the client's redirect URI,
// failing at once when the page shows an error instead.
func (c *Chrome) WaitLanded(ctx context.Context) *url.URL {
	c.t.Helper()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case raw := <-c.landedCh:
			u, err := url.Parse(raw)
			if err != nil {
				c.Fatalf("redirect URI load %q: %v", raw, err)
			}
			return u
		case <-tick.C:
			// Errors here are navigations in progress; the next tick retries.
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			s, err := c.State(pctx)
			cancel()
			if err == nil && s.ErrorShown {
				c.Fatalf("the page shows an error instead of going to %s", c.intercept)
			}
		case <-ctx.Done():
			c.Fatalf("the browser never reached %s: %v", c.intercept, ctx.Err())
			return nil
		}
	}
}

// WaitError waits until #error is shown with some text and returns the
// page's state.
func (c *Chrome) WaitError(ctx context.Context) PageState {
	c.t.Helper()
	var ok bool
	c.Run(ctx, "wait for #error",
		chromedp.Poll(`(function () {
  var e = document.getElementById('error');
  return !!e && !e.hidden && e.checkVisibility() && e.textContent.trim() !== '';
})()`, &ok, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(0)))
	s, err := c.State(ctx)
	if err != nil {
		c.Fatalf("read the login page: %v", err)
	}
	return s
}

// Record is a copy of what the tab has done so far.
type Record struct {
	Landed, Requests, WalletCalls, WalletErrs []string
	Signed                                    []Signed
}

func (c *Chrome) Snapshot() Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Record{
		Landed:      slices.Clone(c.landed),
		Requests:    slices.Clone(c.requests),
		WalletCalls: slices.Clone(c.walletCalls),
		WalletErrs:  slices.Clone(c.walletErrs),
		Signed:      slices.Clone(c.signed),
	}
}
