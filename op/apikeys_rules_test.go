package op_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/op"
)

// TestAPIKeyWalletIsolation: a wallet sees, revokes and rotates its own
// keys only; another wallet's token at the same client cannot touch them.
func TestAPIKeyWalletIsolation(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	alice := signInHeadless(t, ts, c.ID, secret, newWallet(t), "openid read")
	mallory := signInHeadless(t, ts, c.ID, secret, newWallet(t), "openid read")
	made := createKey(t, ts, alice, "alice", "read")
	id, key := made["id"].(string), made["key"].(string)

	if resp, list := keysAPI(t, ts, http.MethodGet, "/api/keys", mallory, nil); resp.StatusCode != 200 || len(list["keys"].([]any)) != 0 {
		t.Fatalf("another wallet's list: %d %v", resp.StatusCode, list)
	}
	if resp, body := keysAPI(t, ts, http.MethodDelete, "/api/keys/"+id, mallory, nil); resp.StatusCode != 404 || body["error"] != "not_found" {
		t.Fatalf("another wallet revokes: %d %v", resp.StatusCode, body)
	}
	if resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys/"+id+"/rotate", mallory, nil); resp.StatusCode != 404 || body["key"] != nil {
		t.Fatalf("another wallet rotates: %d %v", resp.StatusCode, body)
	}
	if got := introspect(t, ts, c.ID, secret, key); got["active"] != true {
		t.Fatalf("after another wallet's attempts: %v", got)
	}
	if resp, list := keysAPI(t, ts, http.MethodGet, "/api/keys", alice, nil); resp.StatusCode != 200 || len(list["keys"].([]any)) != 1 {
		t.Fatalf("the owner's list: %d %v", resp.StatusCode, list)
	}
}

// TestAPIKeyClientIsolation: a key is active for its own client only, at
// introspection and at exchange; the same wallet's token at another client
// does not see it; a confidential client must authenticate to exchange,
// and a public one exchanges its own keys with its client_id alone.
func TestAPIKeyClientIsolation(t *testing.T) {
	ts := newTestServer(t, nil)
	a, secretA := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	b, secretB := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}, Public: true})
	w := newWallet(t)
	keyA := createKey(t, ts, signInHeadless(t, ts, a.ID, secretA, w, "openid read"), "a", "read")["key"].(string)

	if got := introspect(t, ts, b.ID, secretB, keyA); got["active"] != false || len(got) != 1 {
		t.Fatalf("client B introspects A's key: %v", got)
	}
	for name, call := range map[string][2]string{"client B": {b.ID, secretB}, "a public client": {pub.ID, ""}, "A without its secret": {a.ID, ""}} {
		resp, body := exchangeKey(t, ts, call[0], call[1], keyA, "")
		if resp.StatusCode == 200 || body["access_token"] != nil {
			t.Fatalf("%s exchanges A's key: %d %v", name, resp.StatusCode, body)
		}
	}
	if resp, body := exchangeKey(t, ts, a.ID, "", keyA, ""); resp.StatusCode != 401 || body["error"] != "invalid_client" {
		t.Fatalf("A without its secret: %d %v", resp.StatusCode, body)
	}
	if resp, body := exchangeKey(t, ts, a.ID, "wrong", keyA, ""); resp.StatusCode != 401 || body["error"] != "invalid_client" {
		t.Fatalf("A with a wrong secret: %d %v", resp.StatusCode, body)
	}
	if resp, body := exchangeKey(t, ts, b.ID, secretB, keyA, ""); resp.StatusCode != 400 || body["error"] != "invalid_request" {
		t.Fatalf("client B exchanges A's key: %d %v", resp.StatusCode, body)
	}
	if resp, list := keysAPI(t, ts, http.MethodGet, "/api/keys", signInHeadless(t, ts, b.ID, secretB, w, "openid read"), nil); resp.StatusCode != 200 || len(list["keys"].([]any)) != 0 {
		t.Fatalf("the same wallet at client B lists: %v", list)
	}

	keyPub := createKey(t, ts, signInHeadless(t, ts, pub.ID, "", w, "openid read"), "p", "read")["key"].(string)
	if resp, body := exchangeKey(t, ts, pub.ID, "", keyPub, ""); resp.StatusCode != 200 || body["access_token"] == nil {
		t.Fatalf("a public client exchanges its own key: %d %v", resp.StatusCode, body)
	}
	// Public clients cannot introspect (they cannot authenticate), keys or tokens alike.
	if resp, body := postForm(t, ts.Issuer+"/oauth/introspect", nil, map[string][]string{"token": {keyPub}, "client_id": {pub.ID}}); resp.StatusCode != 401 || body["active"] != nil {
		t.Fatalf("a public client introspects: %d %v", resp.StatusCode, body)
	}
}

// TestAPIKeyBearerRules: /api/keys takes a wallet's unrevoked access token
// of the client only: not none, not a forged or other token, not an API
// key, not a token exchanged for one (keys make no keys), not an ID token;
// making keys is rate limited per caller.
func TestAPIKeyBearerRules(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.RateLimits.PerAddress = 4 })
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	w := newWallet(t)
	token := signInHeadless(t, ts, c.ID, secret, w, "openid read")
	key := createKey(t, ts, token, "k", "read")["key"].(string)
	_, ex := exchangeKey(t, ts, c.ID, secret, key, "")
	n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
	_, tok := postJSON(t, apiClient, ts.Issuer+"/auth/verify", map[string]any{"message": n["message"], "signature": w.Sign(t, n["message"].(string)), "client_id": c.ID, "client_secret": secret})
	revoked := tok["access_token"].(string)
	revoke(t, ts, c.ID, secret, revoked, "access_token")

	for name, bearer := range map[string]string{
		"no token": "", "garbage": "not-a-token", "the API key itself": key, "a token exchanged for a key": ex["access_token"].(string),
		"an ID token": tok["id_token"].(string), "a revoked access token": revoked, "a forged token": token[:len(token)-4] + "AAAA",
	} {
		resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys", bearer, map[string]any{"label": "x", "scopes": []string{"read"}})
		if resp.StatusCode != 401 || body["error"] != "invalid_token" || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Fatalf("%s: %d %v %q", name, resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	// Three more keys spend the budget of 4 a minute; the fifth waits.
	for range 3 {
		createKey(t, ts, token, "k", "read")
	}
	resp, body := keysAPI(t, ts, http.MethodPost, "/api/keys", token, map[string]any{"label": "x", "scopes": []string{"read"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || body["error"] != "too_many_requests" {
		t.Fatalf("past the budget: %d %v", resp.StatusCode, body)
	}
	if resp, _ := keysAPI(t, ts, http.MethodGet, "/api/keys", token, nil); resp.StatusCode != 200 {
		t.Fatalf("listing is not rate limited with creation: %d", resp.StatusCode)
	}
	if resp, body := keysAPI(t, ts, http.MethodPut, "/api/keys", token, nil); resp.StatusCode != 405 || body["error"] == nil {
		t.Fatalf("PUT /api/keys: %d %v", resp.StatusCode, body)
	}
}

// TestAPIKeysAreAudited: creation, use, rotation and revocation are events
// in the log with client, account, key ID and request ID; no line carries
// a key.
func TestAPIKeysAreAudited(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "", func(d *op.Deps) { d.Logger = log })
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
	w := newWallet(t)
	token := signInHeadless(t, ts, c.ID, secret, w, "openid read")
	made := createKey(t, ts, token, "k", "read")
	introspect(t, ts, c.ID, secret, made["key"].(string))
	exchangeKey(t, ts, c.ID, secret, made["key"].(string), "")
	_, rotated := keysAPI(t, ts, http.MethodPost, "/api/keys/"+made["id"].(string)+"/rotate", token, nil)
	keysAPI(t, ts, http.MethodDelete, "/api/keys/"+rotated["id"].(string), token, nil)

	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && strings.HasPrefix(e["event"].(string), "api_key_") {
			events = append(events, e)
		}
	}
	want := []struct{ event, id string }{
		{"api_key_created", made["id"].(string)}, {"api_key_used", made["id"].(string)}, {"api_key_used", made["id"].(string)},
		{"api_key_rotated", rotated["id"].(string)}, {"api_key_revoked", rotated["id"].(string)},
	}
	if len(events) != len(want) {
		t.Fatalf("%d API key events, want %d:\n%s", len(events), len(want), logs.String())
	}
	for i, e := range events {
		if e["event"] != want[i].event || e["key_id"] != want[i].id || e["client_id"] != c.ID || e["sub"] != "eip155:1:"+w.Address() ||
			e["request_id"] == "" || e["level"] != "INFO" {
			t.Errorf("event %d = %v, want %s of %s", i, e, want[i].event, want[i].id)
		}
	}
	for _, key := range []string{made["key"].(string), rotated["key"].(string)} {
		if strings.Contains(logs.String(), key[4:20]) {
			t.Fatalf("the log carries a key:\n%s", logs.String())
		}
	}
}

// TestAPIKeyRevocationOnReplicas: two servers on one database (PostgreSQL
// when SIGNET_TEST_POSTGRES_DSN is set, else one SQLite file): a key
// revoked or rotated on one fails introspection and exchange on the other
// at once, without waiting for any cache.
func TestAPIKeyRevocationOnReplicas(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		cl := newCluster(t, dsn)
		ts := cl.view()
		c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read"}})
		cl.use("a")
		token := signInHeadless(t, ts, c.ID, secret, newWallet(t), "openid read")
		made := createKey(t, ts, token, "k", "read")
		key, id := made["key"].(string), made["id"].(string)
		cl.use("b")
		if got := introspect(t, ts, c.ID, secret, key); got["active"] != true {
			t.Fatalf("B introspects A's new key: %v", got)
		}

		cl.use("a")
		_, rotated := keysAPI(t, ts, http.MethodPost, "/api/keys/"+id+"/rotate", token, nil)
		cl.use("b")
		if got := introspect(t, ts, c.ID, secret, key); got["active"] != false {
			t.Fatalf("B introspects the key A rotated away: %v", got)
		}
		if resp, body := exchangeKey(t, ts, c.ID, secret, key, ""); resp.StatusCode != 400 {
			t.Fatalf("B exchanges the key A rotated away: %d %v", resp.StatusCode, body)
		}

		newKey := rotated["key"].(string)
		if resp, _ := exchangeKey(t, ts, c.ID, secret, newKey, ""); resp.StatusCode != 200 {
			t.Fatalf("B exchanges the new key: %d", resp.StatusCode)
		}
		if resp, _ := keysAPI(t, ts, http.MethodDelete, "/api/keys/"+rotated["id"].(string), token, nil); resp.StatusCode != 204 {
			t.Fatalf("revoke on B: %d", resp.StatusCode)
		}
		cl.use("a")
		if got := introspect(t, ts, c.ID, secret, newKey); got["active"] != false {
			t.Fatalf("A introspects the key B revoked: %v", got)
		}
		if resp, body := exchangeKey(t, ts, c.ID, secret, newKey, ""); resp.StatusCode != 400 {
			t.Fatalf("A exchanges the key B revoked: %d %v", resp.StatusCode, body)
		}
	})
}
