package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newPages(t *testing.T) *Pages {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func sampleLogin() LoginData {
	return LoginData{
		AuthRequestID: "ar_123",
		ClientName:    "Acme Dashboard",
		RedirectHost:  "app.acme.example",
		Claims: []string{
			"Your Ethereum address",
			"Your ENS name or address",
			"The signed message, so the app can re-verify it",
			"Stay signed in (refresh token)",
		},
		ChainIDs:     []int64{1, 137},
		ChallengeURL: "/login/challenge",
		VerifyURL:    "https://id.example.com/login/verify",
		StaticURL:    "/static/",
		CancelURL:    "https://app.acme.example/cancelled",
	}
}

func render(t *testing.T, f func(*bytes.Buffer) error) string {
	t.Helper()
	var buf bytes.Buffer
	if err := f(&buf); err != nil {
		t.Fatalf("render: %v", err)
	}
	return buf.String()
}

func TestLoginShowsRequest(t *testing.T) {
	p := newPages(t)
	d := sampleLogin()
	html := render(t, func(b *bytes.Buffer) error { return p.Login(b, d) })

	want := []string{
		`<span class="app-name">Acme Dashboard</span> <span class="app-asks">wants you to sign in</span>`,
		`<strong class="host">app.acme.example</strong>`,
		`<button id="signin" class="button primary" type="button" aria-describedby="status">Sign in with Ethereum</button>`,
		`id="error" class="alert" role="alert" hidden`,
		`id="status"`,
		`data-auth-request-id="ar_123"`,
		`data-challenge-url="/login/challenge"`,
		`data-verify-url="https://id.example.com/login/verify"`,
		`data-chain-ids="1,137"`,
		`data-chain-name="Ethereum Mainnet (chain 1)"`,
		`data-client-name="Acme Dashboard"`,
		`<a href="https://app.acme.example/cancelled">`,
		`<title>Sign in to Acme Dashboard · Signet</title>`,
	}
	for _, c := range d.Claims {
		want = append(want, "<li>"+c+"</li>")
	}
	for _, w := range want {
		if !strings.Contains(html, w) {
			t.Errorf("login page lacks %q", w)
		}
	}
	if n := strings.Count(html, "<button"); n != 1 {
		t.Errorf("login page has %d buttons, want exactly 1", n)
	}
	if !regexp.MustCompile(`<script src="/static/login\.js\?v=[0-9a-f]{16}" defer></script>`).MatchString(html) {
		t.Errorf("login page does not load login.js from the static prefix:\n%s", html)
	}
}

func TestLoginOptionalParts(t *testing.T) {
	p := newPages(t)
	d := sampleLogin()
	d.CancelURL = ""
	d.RedirectHost = ""
	d.Claims = nil
	d.ChainIDs = nil
	d.StaticURL = "/assets" // no trailing slash: one is added
	html := render(t, func(b *bytes.Buffer) error { return p.Login(b, d) })
	for _, absent := range []string{"Cancel", "class=\"host\"", "class=\"claims\"", "Network:"} {
		if strings.Contains(html, absent) {
			t.Errorf("login page shows %q although its data is empty", absent)
		}
	}
	for _, w := range []string{`data-chain-ids=""`, `href="/assets/style.css?v=`, `src="/assets/login.js?v=`} {
		if !strings.Contains(html, w) {
			t.Errorf("login page lacks %q", w)
		}
	}
}

func TestLoginEscapes(t *testing.T) {
	p := newPages(t)
	d := sampleLogin()
	d.ClientName = `<script>alert(1)</script>`
	d.RedirectHost = `evil.example"><img src=x>`
	d.Claims = []string{`<b>bold</b>`}
	d.AuthRequestID = `x" onmouseover="alert(1)`
	d.CancelURL = `javascript:alert(1)`
	html := render(t, func(b *bytes.Buffer) error { return p.Login(b, d) })

	for _, bad := range []string{`<script>alert(1)</script>`, `<img src=x>`, `<b>bold</b>`, `" onmouseover=`, `href="javascript:`} {
		if strings.Contains(html, bad) {
			t.Errorf("login page contains unescaped %q", bad)
		}
	}
	for _, good := range []string{
		`<span class="app-name">&lt;script&gt;alert(1)&lt;/script&gt;</span>`,
		`data-client-name="&lt;script&gt;alert(1)&lt;/script&gt;"`,
		`<li>&lt;b&gt;bold&lt;/b&gt;</li>`,
		`data-auth-request-id="x&#34; onmouseover=&#34;alert(1)"`,
		`href="#ZgotmplZ"`,
	} {
		if !strings.Contains(html, good) {
			t.Errorf("login page lacks escaped %q", good)
		}
	}
}

func TestErrorPage(t *testing.T) {
	p := newPages(t)
	html := render(t, func(b *bytes.Buffer) error {
		return p.Error(b, ErrorData{Title: "Sign-in expired", Message: "This sign-in request <expired>.", StaticURL: "/static/"})
	})
	for _, w := range []string{`<h1 id="error-title">Sign-in expired</h1>`, `This sign-in request &lt;expired&gt;.`, `<title>Sign-in expired · Signet</title>`} {
		if !strings.Contains(html, w) {
			t.Errorf("error page lacks %q", w)
		}
	}
	html = render(t, func(b *bytes.Buffer) error { return p.Error(b, ErrorData{}) })
	if !strings.Contains(html, "Something went wrong") {
		t.Errorf("error page without a title does not fall back to a default:\n%s", html)
	}
}

func TestDemo(t *testing.T) {
	p := newPages(t)
	html := render(t, func(b *bytes.Buffer) error {
		return p.Demo(b, DemoData{StartURL: "/demo/login?x=1&y=2", StaticURL: "/static/", Issuer: "http://localhost:8080"})
	})
	for _, w := range []string{
		`<a id="start" class="button primary" href="/demo/login?x=1&amp;y=2">Sign in with Signet</a>`,
		`http://localhost:8080`,
	} {
		if !strings.Contains(html, w) {
			t.Errorf("demo page lacks %q", w)
		}
	}
}

func TestDemoResult(t *testing.T) {
	p := newPages(t)
	d := DemoResultData{
		ClaimsJSON:  `{"sub":"eip155:1:0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B","ethereum_address":"0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B","chain_id":1,"note":"<i>"}`,
		IDToken:     "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig-id",
		AccessToken: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0.sig-access",
		Issuer:      "http://localhost:8080",
		StaticURL:   "/static/",
		BackURL:     "/demo",
	}
	html := render(t, func(b *bytes.Buffer) error { return p.DemoResult(b, d) })
	for _, w := range []string{
		"{\n  &#34;sub&#34;: &#34;eip155:1:0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B&#34;,\n",
		`&#34;note&#34;: &#34;&lt;i&gt;&#34;`,
		`<pre id="id-token" class="code tokenbox">` + d.IDToken + `</pre>`,
		`<pre id="access-token" class="code tokenbox">` + d.AccessToken + `</pre>`,
		`None issued.`,
		`Ethereum Mainnet (chain 1)`,
		`<a class="button secondary" href="/demo">Back to the demo</a>`,
		`class="page wide"`,
	} {
		if !strings.Contains(html, w) {
			t.Errorf("demo result lacks %q", w)
		}
	}
	if strings.Contains(html, `id="refresh-token"`) {
		t.Error("demo result shows a refresh token box without a refresh token")
	}

	d.RefreshToken = "rt_secret"
	html = render(t, func(b *bytes.Buffer) error { return p.DemoResult(b, d) })
	if !strings.Contains(html, `<pre id="refresh-token" class="code tokenbox">rt_secret</pre>`) {
		t.Error("demo result does not show the refresh token")
	}

	failed := DemoResultData{Error: "state mismatch <x>", IDToken: "should-not-show", StaticURL: "/static/", BackURL: "/demo"}
	html = render(t, func(b *bytes.Buffer) error { return p.DemoResult(b, failed) })
	if !strings.Contains(html, `role="alert">state mismatch &lt;x&gt;</p>`) {
		t.Errorf("failed demo result does not show the error:\n%s", html)
	}
	if strings.Contains(html, "should-not-show") {
		t.Error("failed demo result shows tokens")
	}
}

func TestPrettyJSONLeavesNonJSONAlone(t *testing.T) {
	if got := prettyJSON("not json {"); got != "not json {" {
		t.Errorf("prettyJSON(non-JSON) = %q", got)
	}
	if got := prettyJSON(`{"a":[1,2]}`); got != "{\n  \"a\": [\n    1,\n    2\n  ]\n}" {
		t.Errorf("prettyJSON = %q", got)
	}
}

// allPages renders every page with representative data, keyed by a name for messages.
func allPages(t *testing.T) map[string]string {
	t.Helper()
	p := newPages(t)
	return map[string]string{
		"login": render(t, func(b *bytes.Buffer) error { return p.Login(b, sampleLogin()) }),
		"error": render(t, func(b *bytes.Buffer) error {
			return p.Error(b, ErrorData{Title: "Oops", Message: "Broken.", StaticURL: "/static/"})
		}),
		"demo": render(t, func(b *bytes.Buffer) error {
			return p.Demo(b, DemoData{StartURL: "/demo/start", StaticURL: "/static/", Issuer: "http://localhost:8080"})
		}),
		"demo_result": render(t, func(b *bytes.Buffer) error {
			return p.DemoResult(b, DemoResultData{ClaimsJSON: `{"sub":"x"}`, IDToken: "a.b.c", AccessToken: "d.e.f", RefreshToken: "r", StaticURL: "/static/", BackURL: "/demo"})
		}),
		"demo_result_error": render(t, func(b *bytes.Buffer) error {
			return p.DemoResult(b, DemoResultData{Error: "denied", StaticURL: "/static/", BackURL: "/demo"})
		}),
	}
}

// TestPagesAreCSPFriendly holds every page to what script-src 'self' and style-src 'self' allow.
func TestPagesAreCSPFriendly(t *testing.T) {
	scriptTag := regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	handler := regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	styleAttr := regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	for name, html := range allPages(t) {
		if !strings.HasPrefix(html, "<!doctype html>") {
			t.Errorf("%s: does not start with a doctype", name)
		}
		for _, m := range scriptTag.FindAllStringSubmatch(html, -1) {
			if strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script body %q", name, m[2])
			}
			if !strings.Contains(m[1], "src=") {
				t.Errorf("%s: script tag without src: %q", name, m[0])
			}
		}
		if strings.Count(strings.ToLower(html), "<script") != len(scriptTag.FindAllString(html, -1)) {
			t.Errorf("%s: unclosed or odd script tag", name)
		}
		if m := handler.FindString(html); m != "" {
			t.Errorf("%s: inline event handler in %q", name, m)
		}
		if m := styleAttr.FindString(html); m != "" {
			t.Errorf("%s: inline style attribute in %q", name, m)
		}
		if strings.Contains(strings.ToLower(html), "<style") {
			t.Errorf("%s: inline <style> element", name)
		}
		if strings.Contains(strings.ToLower(html), "javascript:") {
			t.Errorf("%s: javascript: URL", name)
		}
	}
}

// TestPageAssetsResolve checks that every static URL a page references is served by Static and
// marked immutable, because it carries the file's hash.
func TestPageAssetsResolve(t *testing.T) {
	h := http.StripPrefix("/static/", Static())
	ref := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)
	for name, html := range allPages(t) {
		refs := ref.FindAllStringSubmatch(html, -1)
		if len(refs) < 2 {
			t.Errorf("%s: references %d static files, want at least the stylesheet and the icon", name, len(refs))
		}
		for _, m := range refs {
			u := strings.ReplaceAll(m[1], "&amp;", "&")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, u, nil))
			if rec.Code != http.StatusOK {
				t.Errorf("%s: GET %s = %d", name, u, rec.Code)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != cacheVersioned {
				t.Errorf("%s: GET %s Cache-Control = %q, want %q", name, u, cc, cacheVersioned)
			}
		}
	}
}

func TestStatic(t *testing.T) {
	h := http.StripPrefix("/static/", Static())
	get := func(method, target string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	for _, tc := range []struct{ path, ctype, contains string }{
		{"/static/login.js", "text/javascript; charset=utf-8", "eip6963:requestProvider"},
		{"/static/style.css", "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/static/favicon.svg", "image/svg+xml", "<svg"},
	} {
		rec := get(http.MethodGet, tc.path, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", tc.path, rec.Code)
		}
		if got := rec.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("GET %s Content-Type = %q, want %q", tc.path, got, tc.ctype)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s X-Content-Type-Options = %q", tc.path, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != cacheUnversioned {
			t.Errorf("GET %s without ?v Cache-Control = %q, want %q", tc.path, got, cacheUnversioned)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("GET %s body lacks %q", tc.path, tc.contains)
		}

		etag := rec.Header().Get("ETag")
		if etag == "" {
			t.Errorf("GET %s has no ETag", tc.path)
			continue
		}
		if rec := get(http.MethodGet, tc.path, map[string]string{"If-None-Match": etag}); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s If-None-Match = %d, want 304", tc.path, rec.Code)
		}
		stale := get(http.MethodGet, tc.path+"?v=0000000000000000", nil)
		if got := stale.Header().Get("Cache-Control"); got != cacheUnversioned {
			t.Errorf("GET %s with a stale ?v Cache-Control = %q, want %q", tc.path, got, cacheUnversioned)
		}
	}

	for _, path := range []string{"/static/", "/static/nope.js", "/static/../pages.go", "/static/templates/login.html"} {
		if rec := get(http.MethodGet, path, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, rec.Code)
		}
	}
	if rec := get(http.MethodPost, "/static/login.js", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST login.js = %d, want 405", rec.Code)
	}
	if rec := get(http.MethodHead, "/static/style.css", nil); rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD style.css = %d with %d body bytes", rec.Code, rec.Body.Len())
	}
}

// TestEveryStaticFileHasAContentType guards against adding an asset that Static would refuse.
func TestEveryStaticFileHasAContentType(t *testing.T) {
	files, err := loadStatic()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no static files embedded")
	}
	for name := range files {
		if _, ok := contentTypes[name[strings.LastIndex(name, "."):]]; !ok {
			t.Errorf("static file %s has no content type", name)
		}
	}
}

// TestScriptMatchesTemplate checks that the element IDs and data attributes login.js reads are the
// ones the login template writes, so a rename on one side cannot silently break sign-in.
func TestScriptMatchesTemplate(t *testing.T) {
	js, err := staticFS.ReadFile("static/login.js")
	if err != nil {
		t.Fatal(err)
	}
	script := string(js)
	// The page as it is, and as it is with a single sign-on session to
	// continue (the #continue button).
	withSession := sampleLogin()
	withSession.ContinueAs, withSession.ContinueURL = "alice.eth", "/login/continue"
	html := render(t, func(b *bytes.Buffer) error { return newPages(t).Login(b, sampleLogin()) }) +
		render(t, func(b *bytes.Buffer) error { return newPages(t).Login(b, withSession) })

	for _, id := range regexp.MustCompile(`getElementById\('([^']+)'\)`).FindAllStringSubmatch(script, -1) {
		if !strings.Contains(html, `id="`+id[1]+`"`) {
			t.Errorf("login.js reads #%s, which the login page lacks", id[1])
		}
	}
	camel := regexp.MustCompile(`[A-Z]`)
	for _, key := range regexp.MustCompile(`dataset\.([A-Za-z]+)`).FindAllStringSubmatch(script, -1) {
		attr := "data-" + camel.ReplaceAllStringFunc(key[1], func(s string) string { return "-" + strings.ToLower(s) })
		if !strings.Contains(html, attr+`="`) {
			t.Errorf("login.js reads %s, which the login page lacks", attr)
		}
	}
	for _, want := range []string{
		"eip6963:requestProvider", "eip6963:announceProvider", "window.ethereum",
		"eth_requestAccounts", "eth_chainId", "wallet_switchEthereumChain", "personal_sign",
		"credentials: 'same-origin'", "authRequestID:", "challengeId:", "chainId:", "signature:",
		"error_description", "window.location.assign(result.redirect)",
		"You rejected the signature request.",
		"No Ethereum wallet found. Install a browser wallet such as MetaMask or Rabby, then retry.",
		"Waiting for your wallet…", "Verifying signature…",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("login.js lacks %q", want)
		}
	}
}

func TestInitial(t *testing.T) {
	for in, want := range map[string]string{"acme": "A", "  élan": "É", "42 Labs": "4", "<>": "?", "": "?"} {
		if got := initial(in); got != want {
			t.Errorf("initial(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChainName(t *testing.T) {
	for id, want := range map[int64]string{1: "Ethereum Mainnet (chain 1)", 137: "Polygon (chain 137)", 999999: "chain 999999"} {
		if got := chainName(id); got != want {
			t.Errorf("chainName(%d) = %q, want %q", id, got, want)
		}
	}
}
