package op_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
)

// signInHeadless signs w in to a client through the JSON headless API,
// asking for scope, with the client's secret when it has one, and returns
// the access token.
func signInHeadless(t testing.TB, ts *testServer, clientID, secret string, w *wallet, scope string) string {
	t.Helper()
	n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": clientID, "scope": scope})
	msg := n["message"].(string)
	body := map[string]any{"message": msg, "signature": w.Sign(t, msg), "client_id": clientID}
	if secret != "" {
		body["client_secret"] = secret
	}
	resp, tok := postJSON(t, apiClient, ts.Issuer+"/auth/verify", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("headless sign-in: %d %v", resp.StatusCode, tok)
	}
	return tok["access_token"].(string)
}

// TestAPIScopesInTokens: a client's own API scopes reach the scope claim of
// its access tokens, headless and in the browser flow, while scopes the
// client lacks do not; discovery still advertises the OpenID ones only.
func TestAPIScopesInTokens(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read", "trade"}})
	app := newRP(t, ts, c.ID, secret, "read", "withdraw")
	w := newWallet(t)

	headless := verifyJWT(t, app, signInHeadless(t, ts, c.ID, secret, w, "openid read trade withdraw"), c.ID)
	if headless["scope"] != "openid read trade" {
		t.Fatalf("headless access token scope = %v, want the client's API scopes asked for", headless["scope"])
	}
	code, v := codeFor(t, ts, app)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	browser := verifyJWT(t, app, tok.AccessToken, c.ID)
	if browser["scope"] != "openid read" {
		t.Fatalf("browser flow access token scope = %v, want openid read", browser["scope"])
	}
	if got := introspect(t, ts, c.ID, secret, tok.AccessToken); got["scope"] != "openid read" {
		t.Fatalf("introspection scope = %v", got["scope"])
	}

	// A client without API scopes gets none, whatever it asks.
	plain, plainSecret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	plainApp := newRP(t, ts, plain.ID, plainSecret)
	if got := verifyJWT(t, plainApp, signInHeadless(t, ts, plain.ID, plainSecret, w, "openid read"), plain.ID); got["scope"] != "openid" {
		t.Fatalf("scope of a client without API scopes = %v", got["scope"])
	}

	var disc struct {
		Scopes []string `json:"scopes_supported"`
		Grants []string `json:"grant_types_supported"`
	}
	resp, err := http.Get(ts.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(disc.Scopes, clients.KnownScopes()) {
		t.Fatalf("scopes_supported = %v, want the known scopes only", disc.Scopes)
	}
	if !slices.Contains(disc.Grants, "urn:ietf:params:oauth:grant-type:token-exchange") {
		t.Fatalf("grant_types_supported = %v lacks token exchange", disc.Grants)
	}
}

// TestAPIScopesOnTheLoginPage: the login page tells the person which API
// permissions the app will get.
func TestAPIScopesOnTheLoginPage(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read", "trade"}})
	app := newRP(t, ts, c.ID, secret, "trade")
	b := browser()
	id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	resp, err := b.Get(ts.Issuer + "/login?authRequestID=" + id)
	if err != nil {
		t.Fatal(err)
	}
	if page := readAll(t, resp); !strings.Contains(page, "own API: trade</li>") {
		t.Fatalf("login page does not name exactly the API scope asked for")
	}
}
