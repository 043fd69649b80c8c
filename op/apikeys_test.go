package op_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/signet-id/signet/clients"
)

// keysAPI calls /api/keys… with token as Bearer ("" for none) and returns
// the answer and its JSON body (nil for an empty one).
func keysAPI(t testing.TB, ts *testServer, method, path, token string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var r io.Reader = http.NoBody
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, ts.Issuer+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
	}
	return resp, m
}

// createKey makes a key with the wallet's token and returns the answer.
func createKey(t testing.TB, ts *testServer, token, label string, scopes ...string) map[string]any {
	t.Helper()
	resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys", token, map[string]any{"label": label, "scopes": scopes})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create key: %d %v", resp.StatusCode, body)
	}
	return body
}

// exchangeKey exchanges an API key at the token endpoint (RFC 8693), as
// clientID with its secret (HTTP Basic), or with client_id alone when
// secret is empty.
func exchangeKey(t testing.TB, ts *testServer, clientID, secret, key, scope string) (*http.Response, map[string]any) {
	t.Helper()
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {key},
		"subject_token_type": {"urn:signet:params:oauth:token-type:api_key"},
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	if secret == "" {
		form.Set("client_id", clientID)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

var keyShape = regexp.MustCompile(`^sgk_[0-9a-f]{64}$`)

// TestAPIKeyLifecycle: a wallet signed in headless makes a key, which is
// shown once; lists show it without the key; the client introspects it
// and exchanges it for an access token that verifies against /keys with
// go-oidc and carries api_key_id and only the key's scopes; rotation and
// revocation end a key (and what it was exchanged for) at once.
func TestAPIKeyLifecycle(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read", "trade", "withdraw"}})
	w := newWallet(t)
	token := signInHeadless(t, ts, c.ID, secret, w, "openid read trade")

	made := createKey(t, ts, token, "  trading bot  ", "trade", "read", "trade")
	key, id := made["key"].(string), made["id"].(string)
	if !keyShape.MatchString(key) || !strings.HasPrefix(id, "key_") || made["label"] != "trading bot" ||
		!sameStrings(made["scopes"], "trade", "read") || made["created_at"] == "" {
		t.Fatalf("created: %v", made)
	}
	resp, list := keysAPI(t, ts, http.MethodGet, "/api/keys", token, nil)
	raw, _ := json.Marshal(list)
	if resp.StatusCode != 200 || len(list["keys"].([]any)) != 1 || bytes.Contains(raw, []byte(key[4:])) || bytes.Contains(raw, []byte(`"key"`)) {
		t.Fatalf("list: %d %s", resp.StatusCode, raw)
	}
	if listed := list["keys"].([]any)[0].(map[string]any); listed["id"] != id || listed["label"] != "trading bot" {
		t.Fatalf("listed key: %v", listed)
	}

	got := introspect(t, ts, c.ID, secret, key)
	if got["active"] != true || got["sub"] != "eip155:1:"+w.Address() || got["scope"] != "trade read" || got["client_id"] != c.ID ||
		got["api_key_id"] != id || got["token_type"] != "api_key" || got["iss"] != ts.Issuer {
		t.Fatalf("introspection: %v", got)
	}

	resp, ex := exchangeKey(t, ts, c.ID, secret, key, "")
	if resp.StatusCode != 200 || ex["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" || ex["token_type"] != "Bearer" ||
		ex["scope"] != "trade read" || ex["expires_in"].(float64) > 900 || ex["expires_in"].(float64) < 890 {
		t.Fatalf("exchange: %d %v", resp.StatusCode, ex)
	}
	exchanged := ex["access_token"].(string)
	claims := verifyJWT(t, newRP(t, ts, c.ID, secret), exchanged, c.ID)
	if jwtType(t, exchanged) != "at+jwt" || claims["sub"] != "eip155:1:"+w.Address() || claims["api_key_id"] != id ||
		claims["scope"] != "trade read" || claims["ethereum_address"] != w.Address() || claims["chain_id"] != float64(1) ||
		claims["exp"].(float64)-claims["iat"].(float64) > 900 {
		t.Fatalf("exchanged token: typ %s, claims %v", jwtType(t, exchanged), claims)
	}
	if got := introspect(t, ts, c.ID, secret, exchanged); got["active"] != true || got["sub"] != claims["sub"] {
		t.Fatalf("introspection of the exchanged token: %v", got)
	}

	resp, rotated := keysAPI(t, ts, http.MethodPost, "/api/keys/"+id+"/rotate", token, nil)
	newKey, _ := rotated["key"].(string)
	if resp.StatusCode != 201 || !keyShape.MatchString(newKey) || newKey == key || rotated["rotated_from"] != id || rotated["label"] != "trading bot" {
		t.Fatalf("rotate: %d %v", resp.StatusCode, rotated)
	}
	if got := introspect(t, ts, c.ID, secret, key); got["active"] != false || len(got) != 1 {
		t.Fatalf("the rotated-away key: %v, want only active: false", got)
	}
	if resp, body := exchangeKey(t, ts, c.ID, secret, key, ""); resp.StatusCode != 400 || body["error"] != "invalid_request" {
		t.Fatalf("exchange of the rotated-away key: %d %v", resp.StatusCode, body)
	}
	if got := introspect(t, ts, c.ID, secret, exchanged); got["active"] != false {
		t.Fatalf("a token exchanged for the rotated-away key: %v", got)
	}
	if got := introspect(t, ts, c.ID, secret, newKey); got["active"] != true || got["scope"] != "trade read" {
		t.Fatalf("the new key: %v", got)
	}

	newID := rotated["id"].(string)
	if resp, body := keysAPI(t, ts, http.MethodDelete, "/api/keys/"+newID, token, nil); resp.StatusCode != 204 || body != nil {
		t.Fatalf("revoke: %d %v", resp.StatusCode, body)
	}
	if got := introspect(t, ts, c.ID, secret, newKey); got["active"] != false {
		t.Fatalf("the revoked key: %v", got)
	}
	for _, path := range []string{"/api/keys/" + newID, "/api/keys/key_00000000000000000000", "/api/keys/nonsense"} {
		if resp, body := keysAPI(t, ts, http.MethodDelete, path, token, nil); resp.StatusCode != 404 || body["error"] != "not_found" {
			t.Fatalf("DELETE %s: %d %v", path, resp.StatusCode, body)
		}
	}
	if resp, list := keysAPI(t, ts, http.MethodGet, "/api/keys", token, nil); resp.StatusCode != 200 || len(list["keys"].([]any)) != 0 {
		t.Fatalf("list after revocation: %v", list)
	}
}

// sameStrings reports whether v is a JSON array of exactly want, in order.
func sameStrings(v any, want ...string) bool {
	list, _ := v.([]any)
	if len(list) != len(want) {
		return false
	}
	for i := range list {
		if list[i] != want[i] {
			return false
		}
	}
	return true
}

// TestAPIKeyScopes: a key gets API scopes of its client that the wallet's
// token carries, nothing else; an exchange narrows a key's scopes, never
// widens them; a scope the client loses, its keys lose at once.
func TestAPIKeyScopes(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read", "trade", "withdraw"}})
	token := signInHeadless(t, ts, c.ID, secret, newWallet(t), "openid read trade")
	for _, tc := range []struct {
		scopes       []string
		status       int
		code, phrase string
	}{
		{[]string{"read", "admin"}, 400, "invalid_scope", `"admin"`},
		{[]string{"openid"}, 400, "invalid_scope", "API scopes only"},
		{[]string{"read", "withdraw"}, 403, "insufficient_scope", `"withdraw"`},
	} {
		resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys", token, map[string]any{"label": "x", "scopes": tc.scopes})
		if resp.StatusCode != tc.status || body["error"] != tc.code || !strings.Contains(body["error_description"].(string), tc.phrase) {
			t.Fatalf("scopes %v: %d %v", tc.scopes, resp.StatusCode, body)
		}
		if tc.status == 403 && !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
			t.Fatalf("403 without WWW-Authenticate: %q", resp.Header.Get("WWW-Authenticate"))
		}
	}
	resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys", token, map[string]any{"label": strings.Repeat("é", 101), "scopes": []string{"read"}})
	if resp.StatusCode != 400 || body["error"] != "invalid_request" {
		t.Fatalf("a label of 101 characters: %d %v", resp.StatusCode, body)
	}
	createKey(t, ts, token, strings.Repeat("é", 100))

	key := createKey(t, ts, token, "k", "read", "trade")["key"].(string)
	if resp, body := exchangeKey(t, ts, c.ID, secret, key, "trade withdraw"); resp.StatusCode != 400 || body["error"] != "invalid_scope" {
		t.Fatalf("exchange asking for more than the key's scopes: %d %v", resp.StatusCode, body)
	}
	resp, ex := exchangeKey(t, ts, c.ID, secret, key, "trade")
	if resp.StatusCode != 200 || ex["scope"] != "trade" {
		t.Fatalf("narrowed exchange: %d %v", resp.StatusCode, ex)
	}
	if claims := verifyJWT(t, newRP(t, ts, c.ID, secret), ex["access_token"].(string), c.ID); claims["scope"] != "trade" {
		t.Fatalf("narrowed token scope = %v", claims["scope"])
	}
	// The client loses "trade": so do its keys, at once.
	if _, err := ts.Registry.Update(t.Context(), c.ID, clients.Changes{Scopes: &[]string{"read", "withdraw"}}); err != nil {
		t.Fatal(err)
	}
	if got := introspect(t, ts, c.ID, secret, key); got["active"] != true || got["scope"] != "read" {
		t.Fatalf("after the client lost a scope: %v", got)
	}
}

// TestTokenExchangeRefuses: the token exchange takes what RFC 8693 §2.1
// asks and Signet supports (an API key for its own client, no actor, an
// access token to issue), and refuses anything else in RFC 6749 §5.2 JSON.
func TestTokenExchangeRefuses(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	token := signInHeadless(t, ts, c.ID, secret, newWallet(t), "openid read")
	key := createKey(t, ts, token, "k", "read")["key"].(string)
	base := func(edit func(url.Values)) url.Values {
		f := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {key},
			"subject_token_type": {"urn:signet:params:oauth:token-type:api_key"}}
		edit(f)
		return f
	}
	for name, tc := range map[string]struct {
		form url.Values
		code string
	}{
		"no subject_token": {base(func(f url.Values) { f.Del("subject_token") }), "invalid_request"},
		"an access token as subject": {base(func(f url.Values) {
			f.Set("subject_token", token)
			f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:access_token")
		}), "invalid_request"},
		"an actor":                   {base(func(f url.Values) { f.Set("actor_token", token) }), "invalid_request"},
		"an ID token asked for":      {base(func(f url.Values) { f.Set("requested_token_type", "urn:ietf:params:oauth:token-type:id_token") }), "invalid_request"},
		"another audience":           {base(func(f url.Values) { f.Set("audience", "other-api") }), "invalid_target"},
		"a resource":                 {base(func(f url.Values) { f.Set("resource", "https://api.example") }), "invalid_target"},
		"an access token as API key": {base(func(f url.Values) { f.Set("subject_token", token) }), "invalid_request"},
		"a key of the wrong shape":   {base(func(f url.Values) { f.Set("subject_token", key+"0") }), "invalid_request"},
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/oauth/token", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.ID, secret)
		resp, err := apiClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := decodeBody(t, resp)
		if resp.StatusCode != 400 || body["error"] != tc.code || body["error_description"] == "" || body["access_token"] != nil {
			t.Errorf("%s: %d %v, want 400 %s", name, resp.StatusCode, body, tc.code)
		}
	}
	// The audience may name the client itself.
	form := base(func(f url.Values) { f.Set("audience", c.ID) })
	req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.ID, secret)
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := decodeBody(t, resp); resp.StatusCode != 200 {
		t.Fatalf("audience = the client: %d %v", resp.StatusCode, body)
	}
}
