package op_test

import (
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/clients"
	"golang.org/x/oauth2"
)

// TestBadInputGetsJSON4xx: every endpoint answers garbage with a 4xx and a
// JSON body in its standard's shape, never a 500, plain text or a
// dependency's error text.
func TestBadInputGetsJSON4xx(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	type call struct {
		name, method, path, body string
		basic                    [2]string
		bearer                   string
		status                   int
		code, wwwAuth            string
	}
	for _, tc := range []call{
		{name: "end_session with a semicolon query", method: "GET", path: "/end_session?a=1;b=2", status: 400, code: "invalid_request"},
		{name: "end_session with a bad escape", method: "GET", path: "/end_session?state=%zz", status: 400, code: "invalid_request"},
		{name: "end_session for an unknown client", method: "GET", path: "/end_session?client_id=nobody", status: 401, code: "invalid_client"},
		{name: "userinfo without a token", method: "GET", path: "/userinfo", status: 401, code: "invalid_token", wwwAuth: "Bearer"},
		{name: "userinfo with garbage", method: "GET", path: "/userinfo", bearer: "garbage", status: 401, code: "invalid_token", wwwAuth: `error="invalid_token"`},
		{name: "userinfo with a malformed JWT", method: "GET", path: "/userinfo", bearer: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", status: 401, code: "invalid_token", wwwAuth: "Bearer"},
		{name: "introspection without client authentication", method: "POST", path: "/oauth/introspect", body: "token=x", status: 401, code: "invalid_client", wwwAuth: "Basic"},
		{name: "introspection with a wrong secret", method: "POST", path: "/oauth/introspect", body: "token=x", basic: [2]string{c.ID, "wrong"}, status: 401, code: "invalid_client", wwwAuth: "Basic"},
		{name: "introspection with a malformed form", method: "POST", path: "/oauth/introspect", body: "token=%zz", basic: [2]string{c.ID, secret}, status: 400, code: "invalid_request"},
		{name: "revocation without client authentication", method: "POST", path: "/revoke", body: "token=x", status: 401, code: "invalid_client", wwwAuth: "Basic"},
		{name: "token endpoint with a malformed form", method: "POST", path: "/oauth/token", body: "grant_type=%zz", status: 400, code: "invalid_request"},
		{name: "token endpoint without a grant", method: "POST", path: "/oauth/token", body: "a=b", status: 400, code: "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, ts.Issuer+tc.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tc.basic[0] != "" {
				req.SetBasicAuth(url.QueryEscape(tc.basic[0]), url.QueryEscape(tc.basic[1]))
			}
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			resp, err := browser().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
			if mt != "application/json" {
				t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), readAll(t, resp))
			}
			got := decodeBody(t, resp)
			if resp.StatusCode != tc.status || got["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, got, tc.status, tc.code)
			}
			if tc.wwwAuth != "" && !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.wwwAuth) {
				t.Fatalf("WWW-Authenticate %q lacks %q", resp.Header.Get("WWW-Authenticate"), tc.wwwAuth)
			}
			if d, _ := got["error_description"].(string); strings.Contains(d, "Parent=") || strings.Contains(d, "ErrorType=") || strings.Contains(d, "semicolon") {
				t.Fatalf("description carries internal text: %q", d)
			}
		})
	}
}

// TestPagesCarrySecurityHeaders: every HTML page Signet serves, the
// signed-out page included, forbids framing and foreign scripts.
func TestPagesCarrySecurityHeaders(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, path := range []string{"/logged-out", "/login?authRequestID=nope"} {
		resp, err := http.Get(ts.Issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, h)
		}
	}
}

// TestIntrospectionTakesClientSecretPost: introspection and revocation take
// the token endpoint's client authentication, client_secret_post included
// (openid-client's default), and discovery says so.
func TestIntrospectionTakesClientSecretPost(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	code, v := codeFor(t, ts, app)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	post := func(path string, form url.Values) (*http.Response, map[string]any) {
		resp, err := http.PostForm(ts.Issuer+path, form)
		if err != nil {
			t.Fatal(err)
		}
		if path == "/revoke" {
			readAll(t, resp)
			return resp, nil
		}
		return resp, decodeBody(t, resp)
	}
	resp, body := post("/oauth/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {c.ID}, "client_secret": {secret}})
	if resp.StatusCode != 200 || body["active"] != true {
		t.Fatalf("client_secret_post: %d %v", resp.StatusCode, body)
	}
	resp, body = post("/oauth/introspect", url.Values{"token": {tok.AccessToken}, "client_id": {c.ID}, "client_secret": {"wrong"}})
	if resp.StatusCode != 401 || body["error"] != "invalid_client" {
		t.Fatalf("a wrong client_secret_post: %d %v", resp.StatusCode, body)
	}
	if resp, _ := post("/revoke", url.Values{"token": {tok.AccessToken}, "client_id": {c.ID}, "client_secret": {secret}}); resp.StatusCode != 200 {
		t.Fatalf("revocation with client_secret_post: %d", resp.StatusCode)
	}
	if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["active"] != false {
		t.Fatalf("after revocation: %v", got)
	}
	var disc struct {
		Introspection []string `json:"introspection_endpoint_auth_methods_supported"`
		Revocation    []string `json:"revocation_endpoint_auth_methods_supported"`
		Scopes        []string `json:"scopes_supported"`
	}
	r, err := http.Get(ts.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	// Only what Signet can give is advertised: no email claim, so no email scope.
	if slices.Contains(disc.Scopes, "email") || !slices.Contains(disc.Scopes, "siwe") {
		t.Fatalf("scopes_supported = %v", disc.Scopes)
	}
	for _, list := range [][]string{disc.Introspection, disc.Revocation} {
		if !slices.Contains(list, "client_secret_post") || !slices.Contains(list, "client_secret_basic") {
			t.Fatalf("discovery: %+v", disc)
		}
	}
}
