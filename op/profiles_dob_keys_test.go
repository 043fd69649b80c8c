package op_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/stellartest"
	"github.com/signet-id/signet/resource"
)

var dobKeyShape = regexp.MustCompile(`^dob_ak_[0-9a-f]{64}$`)

// dobKeys calls the key endpoints with the token as Bearer ("" for none),
// as python-requests does.
func dobKeys(t *testing.T, base, method, path, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	var header []string
	if token != "" {
		header = []string{"Authorization", "Bearer " + token}
	}
	return pyDo(t, method, base+"/api/agent/auth/keys"+path, body, header...)
}

// dobAPI is a Dob-like resource API built with package resource: X-API-Key
// checked by introspection, Dob's envelope and codes (agent-api/errors) for
// refusals, "read" for pools and "trade" for the marketplace.
func dobAPI(t *testing.T, ts *testServer, clientID, secret string) *httptest.Server {
	t.Helper()
	v, err := resource.New(resource.Config{
		Issuer: ts.Issuer, Audiences: []string{clientID}, ClientID: clientID, ClientSecret: secret,
		CacheTTL: time.Nanosecond, NegativeTTL: time.Nanosecond, HTTPClient: apiClient,
		WriteError: func(w http.ResponseWriter, _ *http.Request, e *resource.Error) {
			code := map[int]string{401: "INVALID_API_KEY", 403: "INSUFFICIENT_SCOPE", 400: "VALIDATION_ERROR", 503: "INTERNAL_ERROR"}[e.Status]
			if e.Missing {
				code = "MISSING_API_KEY"
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]string{"code": code, "message": e.Description}})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	answer := func(w http.ResponseWriter, r *http.Request) {
		p, _ := resource.FromContext(r.Context())
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"success": true, "data": map[string]any{"wallet": p.Address, "scopes": p.Scopes}})
	}
	mux := http.NewServeMux()
	mux.Handle("GET /api/agent/pools", v.Require("read")(http.HandlerFunc(answer)))
	mux.Handle("POST /api/agent/marketplace/buy", v.Require("trade")(http.HandlerFunc(answer)))
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	return api
}

// TestDobProfileKeys: a Stellar wallet's dob token makes a dob_ak_ key,
// shown once; lists show it without the key; introspection answers for it
// with the wallet; rotation and revocation end a key at once; a Dob-like
// API answers 403 INSUFFICIENT_SCOPE for a key without "trade" and 200
// with it.
func TestDobProfileKeys(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob", Scopes: []string{"read", "trade"}})
	base := ts.Issuer + "/compat/" + c.ID
	key := stellartest.New(t)
	token := dobSignIn(t, base, key.Address(), "stellar", key.Sign)

	resp, body := dobKeys(t, base, "POST", "", token, `{"label": "my-trading-bot", "scopes": ["read", "trade"]}`)
	made := dobData(t, "create", resp, body, http.StatusCreated)
	apiKey, id := made["key"].(string), made["id"].(string)
	if !dobKeyShape.MatchString(apiKey) || made["key_id"] != id || made["label"] != "my-trading-bot" || !sameStrings(made["scopes"], "read", "trade") ||
		!dobTime.MatchString(made["created_at"].(string)) || len(made) != 6 {
		t.Fatalf("created: %v", made)
	}
	resp, body = dobKeys(t, base, "GET", "", token, "")
	raw, _ := json.Marshal(body)
	list, _ := body["data"].([]any)
	if resp.StatusCode != 200 || body["success"] != true || len(list) != 1 || strings.Contains(string(raw), apiKey[7:]) || strings.Contains(string(raw), `"key"`) {
		t.Fatalf("list: %d %s", resp.StatusCode, raw)
	}
	if got := introspect(t, ts, c.ID, secret, apiKey); got["active"] != true || got["sub"] != "stellar:pubnet:"+key.Address() || got["scope"] != "read trade" || got["api_key_id"] != id {
		t.Fatalf("introspection: %v", got)
	}

	// A Dob-like API: a read-only key may read, not trade; a trading key may.
	resp, body = dobKeys(t, base, "POST", "", token, `{"label": "reader", "scopes": ["read"]}`)
	reader := dobData(t, "create a read-only key", resp, body, http.StatusCreated)["key"].(string)
	api := dobAPI(t, ts, c.ID, secret)
	resp, body = curlDo(t, "POST", api.URL+"/api/agent/marketplace/buy", "", "X-API-Key", reader)
	wantDobError(t, "trade with a read-only key", resp, body, http.StatusForbidden, "INSUFFICIENT_SCOPE", "")
	resp, body = curlDo(t, "GET", api.URL+"/api/agent/pools?network_id=10", "", "X-API-Key", reader)
	if data := dobData(t, "read with a read-only key", resp, body, http.StatusOK); data["wallet"] != key.Address() {
		t.Fatalf("pools: %v", data)
	}
	resp, body = curlDo(t, "POST", api.URL+"/api/agent/marketplace/buy", "", "X-API-Key", apiKey)
	dobData(t, "trade with a trading key", resp, body, http.StatusOK)
	resp, body = curlDo(t, "GET", api.URL+"/api/agent/pools", "")
	wantDobError(t, "no key", resp, body, http.StatusUnauthorized, "MISSING_API_KEY", "")

	// Rotation: a new key, shown once; the old one is inactive at once.
	resp, body = dobKeys(t, base, "POST", "/"+id+"/rotate", token, "")
	rotated := dobData(t, "rotate", resp, body, http.StatusCreated)
	newKey, newID := rotated["key"].(string), rotated["id"].(string)
	if !dobKeyShape.MatchString(newKey) || newKey == apiKey || rotated["rotated_from"] != id || rotated["label"] != "my-trading-bot" {
		t.Fatalf("rotated: %v", rotated)
	}
	if got := introspect(t, ts, c.ID, secret, apiKey); got["active"] != false {
		t.Fatalf("the rotated-away key: %v", got)
	}
	resp, body = curlDo(t, "POST", api.URL+"/api/agent/marketplace/buy", "", "X-API-Key", apiKey)
	wantDobError(t, "the rotated-away key at the API", resp, body, http.StatusUnauthorized, "INVALID_API_KEY", "")

	// Revocation: inactive at once; the ID is then unknown.
	resp, body = dobKeys(t, base, "DELETE", "/"+newID, token, "")
	if data := dobData(t, "revoke", resp, body, http.StatusOK); data["id"] != newID || data["revoked"] != true {
		t.Fatalf("revoked: %v", data)
	}
	if got := introspect(t, ts, c.ID, secret, newKey); got["active"] != false {
		t.Fatalf("the revoked key: %v", got)
	}
	resp, body = dobKeys(t, base, "DELETE", "/"+newID, token, "")
	wantDobError(t, "revoke again", resp, body, http.StatusNotFound, "NOT_FOUND", "")
	resp, body = dobKeys(t, base, "GET", "", token, "")
	if list, _ := body["data"].([]any); resp.StatusCode != 200 || len(list) != 1 {
		t.Fatalf("list after: %d %v", resp.StatusCode, body)
	}
}

// TestDobProfileKeyRefusals: the key endpoints take a token of this client
// only, never one exchanged for a key, and keys get only the client's API
// scopes that the token carries, with Dob's label rules.
func TestDobProfileKeyRefusals(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob", Scopes: []string{"read", "trade"}})
	reppo, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	base := ts.Issuer + "/compat/" + c.ID
	w := newWallet(t)
	token := dobSignIn(t, base, w.Address(), "evm", func(m string) string { return w.Sign(t, m) })

	resp, body := dobKeys(t, base, "GET", "", "", "")
	wantDobError(t, "no token", resp, body, http.StatusUnauthorized, "UNAUTHORIZED", "")
	if resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("401 without WWW-Authenticate")
	}
	resp, body = dobKeys(t, base, "GET", "", "not.a.jwt", "")
	wantDobError(t, "a bad token", resp, body, http.StatusUnauthorized, "UNAUTHORIZED", "")
	nonce, message := reppoNonce(t, ts.Issuer+"/compat/"+reppo.ID, w)
	_, v := reppoVerify(t, ts.Issuer+"/compat/"+reppo.ID, w.Address(), w.Sign(t, message), nonce)
	resp, body = dobKeys(t, base, "GET", "", v["token"].(string), "")
	wantDobError(t, "another client's token", resp, body, http.StatusUnauthorized, "UNAUTHORIZED", "not one of this client's")

	for name, tc := range map[string]struct {
		body, code string
		status     int
	}{
		"no label":             {`{"scopes": ["read"]}`, "VALIDATION_ERROR", 400},
		"no scopes":            {`{"label": "x"}`, "VALIDATION_ERROR", 400},
		"a long label":         {`{"label": "` + strings.Repeat("x", 65) + `", "scopes": ["read"]}`, "VALIDATION_ERROR", 400},
		"another scope":        {`{"label": "x", "scopes": ["withdraw"]}`, "VALIDATION_ERROR", 400},
		"an OpenID scope":      {`{"label": "x", "scopes": ["openid"]}`, "VALIDATION_ERROR", 400},
		"not JSON":             {`label=x`, "VALIDATION_ERROR", 400},
		"a 64-character label": {`{"label": "` + strings.Repeat("x", 64) + `", "scopes": ["read"]}`, "", 201},
	} {
		resp, body := dobKeys(t, base, "POST", "", token, tc.body)
		if tc.status == 201 {
			dobData(t, name, resp, body, 201)
			continue
		}
		wantDobError(t, name, resp, body, tc.status, tc.code, "")
	}

	// A scope the client gained after the token was issued: the token
	// does not carry it, so no key gets it.
	scopes := []string{"read", "trade", "withdraw"}
	if _, err := ts.Registry.Update(context.Background(), c.ID, clients.Changes{Scopes: &scopes}); err != nil {
		t.Fatal(err)
	}
	resp, body = dobKeys(t, base, "POST", "", token, `{"label": "x", "scopes": ["withdraw"]}`)
	wantDobError(t, "a scope the token lacks", resp, body, http.StatusForbidden, "INSUFFICIENT_SCOPE", "")

	// A token exchanged for a key manages no keys.
	resp, body = dobKeys(t, base, "POST", "", token, `{"label": "x", "scopes": ["read"]}`)
	apiKey := dobData(t, "create", resp, body, http.StatusCreated)["key"].(string)
	resp, ex := exchangeKey(t, ts, c.ID, secret, apiKey, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: %d %v", resp.StatusCode, ex)
	}
	resp, body = dobKeys(t, base, "POST", "", ex["access_token"].(string), `{"label": "x", "scopes": ["read"]}`)
	wantDobError(t, "an exchanged token", resp, body, http.StatusUnauthorized, "UNAUTHORIZED", "exchanged")
}
