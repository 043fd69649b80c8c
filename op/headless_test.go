package op_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	siwego "github.com/spruceid/siwe-go"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/op"
)

const dimoDomain = "https://app.example/callback"

// postForm posts form values (and optional query values) and decodes the JSON answer.
func postForm(t testing.TB, u string, query, form url.Values) (*http.Response, map[string]any) {
	t.Helper()
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

// dimoChallenge asks for a challenge the way DIMO's JS SDK does: every
// parameter in the query string and an empty body.
func dimoChallenge(t testing.TB, ts *testServer, clientID, address, scope string) (state, challenge string) {
	t.Helper()
	resp, body := postForm(t, ts.Issuer+"/auth/web3/generate_challenge", url.Values{
		"client_id": {clientID}, "domain": {dimoDomain}, "scope": {scope}, "response_type": {"code"}, "address": {address},
	}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("generate_challenge: %d %v", resp.StatusCode, body)
	}
	return body["state"].(string), body["challenge"].(string)
}

func dimoSubmit(t testing.TB, ts *testServer, clientID, state, signature string) (*http.Response, map[string]any) {
	t.Helper()
	return postForm(t, ts.Issuer+"/auth/web3/submit_challenge", nil, url.Values{
		"client_id": {clientID}, "client_secret": {ts.secret(clientID)}, "domain": {dimoDomain}, "grant_type": {"authorization_code"}, "state": {state}, "signature": {signature},
	})
}

func TestDIMOHeadlessFlow(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	w := newWallet(t)
	state, challenge := dimoChallenge(t, ts, c.ID, w.Address(), "openid email offline_access")
	if !strings.Contains(challenge, w.Address()) || !strings.Contains(challenge, "\nNonce: ") {
		t.Fatalf("challenge is not an EIP-4361 message for the address:\n%s", challenge)
	}
	resp, tok := dimoSubmit(t, ts, c.ID, state, w.Sign(t, challenge))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("submit_challenge: %d %v", resp.StatusCode, tok)
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] == nil || tok["refresh_token"] == nil || tok["state"] != nil {
		t.Fatalf("token response = %v", tok)
	}
	app := newRP(t, ts, c.ID, secret)
	idt, idClaims := verifyIDToken(t, app, tok["id_token"].(string))
	if idt.Subject != "eip155:1:"+w.Address() {
		t.Fatalf("sub = %s", idt.Subject)
	}
	if amr, _ := idClaims["amr"].([]any); len(amr) != 2 || amr[1] != "headless" {
		t.Errorf("amr = %v", idClaims["amr"])
	}
	// DIMO's SDK keeps only the access token: it must carry aud and the address.
	at := verifyJWT(t, app, tok["access_token"].(string), c.ID)
	if at["ethereum_address"] != w.Address() || at["client_id"] != c.ID {
		t.Fatalf("access token claims = %v", at)
	}
	// Same kind of token as the browser flow: refresh, introspect, revoke.
	refreshed, err := app.config.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tok["refresh_token"].(string), Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("refresh a headless refresh token: %v", err)
	}
	if got := introspect(t, ts, c.ID, secret, refreshed.AccessToken); got["active"] != true {
		t.Fatalf("introspect: %v", got)
	}
	revoke(t, ts, c.ID, secret, refreshed.AccessToken, "access_token")
	if got := introspect(t, ts, c.ID, secret, refreshed.AccessToken); got["active"] != false {
		t.Fatalf("introspect after revoke: %v", got)
	}
}

func TestDIMOAcceptsJSONAndFormBodies(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	w := newWallet(t)
	resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/web3/generate_challenge", map[string]any{
		"client_id": c.ID, "domain": dimoDomain, "scope": "openid", "response_type": "code", "address": w.Address(),
	})
	if resp.StatusCode != 200 {
		t.Fatalf("JSON body: %d %v", resp.StatusCode, body)
	}
	resp, body = postForm(t, ts.Issuer+"/auth/web3/generate_challenge", nil, url.Values{
		"client_id": {c.ID}, "domain": {dimoDomain}, "scope": {"openid"}, "response_type": {"code"}, "address": {strings.ToLower(w.Address())},
	})
	if resp.StatusCode != 200 {
		t.Fatalf("form body, lowercase address: %d %v", resp.StatusCode, body)
	}
	resp, tok := dimoSubmit(t, ts, c.ID, body["state"].(string), w.Sign(t, body["challenge"].(string)))
	if resp.StatusCode != 200 || tok["refresh_token"] != nil {
		t.Fatalf("submit: %d %v (no offline_access asked, so no refresh token)", resp.StatusCode, tok)
	}
}

func nonceFor(t testing.TB, ts *testServer, body map[string]any) map[string]any {
	t.Helper()
	resp, n := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/nonce", body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("nonce: %d %v", resp.StatusCode, n)
	}
	return n
}

func TestJSONNonceVerifyFlow(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.ChainIDs = []int64{1, 137} })
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	w := newWallet(t)

	t.Run("sign the server's message", func(t *testing.T) {
		n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID, "chain_id": 137, "scope": "openid profile siwe"})
		u, _ := url.Parse(ts.Issuer)
		if n["domain"] != u.Host || n["uri"] != ts.Issuer || n["chain_id"] != float64(137) || len(n["nonce"].(string)) < 16 ||
			n["issued_at"] == "" || n["expiration_time"] == "" {
			t.Fatalf("nonce answer = %v", n)
		}
		msg := n["message"].(string)
		resp, tok := verifyJSON(t, ts, msg, w.Sign(t, msg))
		if resp.StatusCode != 200 {
			t.Fatalf("verify: %d %v", resp.StatusCode, tok)
		}
		idt, claims := verifyIDToken(t, app, tok["id_token"].(string))
		if idt.Subject != "eip155:137:"+w.Address() || claims["siwe_message"] != msg || claims["preferred_username"] != w.Address() {
			t.Fatalf("claims = %v", claims)
		}
	})
	t.Run("sign an own message carrying the server's nonce", func(t *testing.T) {
		n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
		u, _ := url.Parse(ts.Issuer)
		m, err := siwego.InitMessage(u.Host, w.Address(), ts.Issuer, n["nonce"].(string), map[string]any{
			"statement": "Agent Smith signs in.", "chainId": 1, "issuedAt": time.Now().UTC().Format(time.RFC3339),
			"expirationTime": time.Now().Add(2 * time.Minute).UTC().Format(time.RFC3339),
		})
		if err != nil {
			t.Fatal(err)
		}
		own := m.String()
		resp, tok := verifyJSON(t, ts, own, w.Sign(t, own))
		if resp.StatusCode != 200 || tok["access_token"] == nil {
			t.Fatalf("verify own message: %d %v", resp.StatusCode, tok)
		}
	})
}

// TestLicenseClient: a developer license's backend signs with an enabled
// signer key; the token's subject is the license, and a claim names the signer.
func TestLicenseClient(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.ChainIDs = []int64{1, 137} })
	licenseKey, _ := crypto.GenerateKey()
	license := crypto.PubkeyToAddress(licenseKey.PublicKey).Hex()
	signer := newWallet(t)
	c, secret := ts.addClient(t, clients.Params{License: strings.ToLower(license), ChainID: 137, Signers: []string{signer.Address()}, RedirectURIs: []string{dimoDomain}})
	if c.ID != license {
		t.Fatalf("license client ID = %s, want %s", c.ID, license)
	}
	app := newRP(t, ts, c.ID, secret)

	// DIMO's SDK sends address = client_id, lowercase as the developer typed it.
	state, challenge := dimoChallenge(t, ts, strings.ToLower(license), strings.ToLower(license), "openid email")
	if !strings.Contains(challenge, "Chain ID: 137") {
		t.Fatalf("license challenge not on the license chain:\n%s", challenge)
	}
	resp, body := dimoSubmit(t, ts, c.ID, state, newWallet(t).Sign(t, challenge))
	if resp.StatusCode != 400 || body["error"] != "invalid_grant" || body["message"] == nil {
		t.Fatalf("a key that is not enabled: %d %v", resp.StatusCode, body)
	}
	resp, tok := dimoSubmit(t, ts, c.ID, state, signer.Sign(t, challenge))
	if resp.StatusCode != 200 {
		t.Fatalf("enabled signer: %d %v", resp.StatusCode, tok)
	}
	at := verifyJWT(t, app, tok["access_token"].(string), c.ID)
	if at["sub"] != "eip155:137:"+license || at["ethereum_address"] != license || at["signer"] != signer.Address() || at["aud"] == nil {
		t.Fatalf("access token claims = %v", at)
	}
	_, claims := verifyIDToken(t, app, tok["id_token"].(string))
	if claims["signer"] != signer.Address() {
		t.Fatalf("ID token signer = %v", claims["signer"])
	}

	// A signer signs for the license, not for any account it names.
	// (On the license's own chain, so that only this rule can refuse it.)
	victim := newWallet(t)
	msg := nonceFor(t, ts, map[string]any{"address": victim.Address(), "client_id": c.ID, "chain_id": 137})["message"].(string)
	if resp, body := verifyJSON(t, ts, msg, signer.Sign(t, msg)); resp.StatusCode != 400 || body["error"] != "invalid_grant" ||
		!strings.Contains(body["error_description"].(string), "does not match the address") {
		t.Fatalf("signer signing for another account: %d %v", resp.StatusCode, body)
	}

	// The browser flow holds the license to its chain too.
	b := browser()
	cfg := *app.config
	cfg.RedirectURL = dimoDomain
	id := authorize(t, ts, b, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	resp, body = postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": license, "chainId": 1})
	if resp.StatusCode != 400 || !strings.Contains(body["error_description"].(string), "another chain") {
		t.Fatalf("license on chain 1 through the login page: %d %v", resp.StatusCode, body)
	}
	resp, ch := postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": license, "chainId": 137})
	if resp.StatusCode != 200 || !strings.Contains(ch["message"].(string), "Chain ID: 137") {
		t.Fatalf("license on its chain through the login page: %d %v", resp.StatusCode, ch)
	}
	resp, v := postJSON(t, b, ts.Issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": signer.Sign(t, ch["message"].(string))})
	if resp.StatusCode != 200 {
		t.Fatalf("license signer through the login page: %d %v", resp.StatusCode, v)
	}

	// Removing the signer stops it at once.
	if _, err := ts.Registry.Update(context.Background(), c.ID, clients.Changes{RemoveSigners: []string{signer.Address()}}); err != nil {
		t.Fatal(err)
	}
	state, challenge = dimoChallenge(t, ts, c.ID, c.ID, "openid")
	if resp, body := dimoSubmit(t, ts, c.ID, state, signer.Sign(t, challenge)); resp.StatusCode != 400 {
		t.Fatalf("removed signer: %d %v", resp.StatusCode, body)
	}
}

// TestHeadlessRejects is the negative matrix for both APIs; every case checks
// the exact status and error.
func TestHeadlessRejects(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock, func(c *op.Config) { c.ChainIDs = []int64{1, 137} })
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	w := newWallet(t)
	u, _ := url.Parse(ts.Issuer)

	expect := func(t *testing.T, resp *http.Response, body map[string]any, status int, code, desc string, dimo bool) {
		t.Helper()
		if resp.StatusCode != status || body["error"] != code {
			t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
		}
		d, _ := body["error_description"].(string)
		if !strings.Contains(d, desc) {
			t.Fatalf("error_description %q lacks %q", d, desc)
		}
		if dimo && body["message"] != d {
			t.Fatalf("DIMO error lacks message = error_description: %v", body)
		}
	}
	gen := func(v url.Values) (*http.Response, map[string]any) {
		return postForm(t, ts.Issuer+"/auth/web3/generate_challenge", v, nil)
	}
	base := func() url.Values {
		return url.Values{"client_id": {c.ID}, "domain": {dimoDomain}, "scope": {"openid"}, "response_type": {"code"}, "address": {w.Address()}}
	}
	with := func(k, v string) url.Values { b := base(); b.Set(k, v); return b }

	t.Run("dimo unknown client", func(t *testing.T) {
		resp, body := gen(with("client_id", "nobody"))
		expect(t, resp, body, 401, "invalid_client", "unknown client", true)
	})
	t.Run("dimo domain not registered", func(t *testing.T) {
		resp, body := gen(with("domain", "https://app.example/callback/"))
		expect(t, resp, body, 400, "invalid_request", "redirect URI", true)
	})
	t.Run("dimo bad address", func(t *testing.T) {
		resp, body := gen(with("address", "0x1234"))
		expect(t, resp, body, 400, "invalid_request", "address", true)
	})
	t.Run("dimo response_type", func(t *testing.T) {
		resp, body := gen(with("response_type", "token"))
		expect(t, resp, body, 400, "unsupported_response_type", "code", true)
	})
	t.Run("dimo replay", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
		sig := w.Sign(t, ch)
		if resp, body := dimoSubmit(t, ts, c.ID, state, sig); resp.StatusCode != 200 {
			t.Fatalf("first: %v", body)
		}
		resp, body := dimoSubmit(t, ts, c.ID, state, sig)
		expect(t, resp, body, 400, "invalid_grant", "already used", true)
	})
	t.Run("dimo expired", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
		clock.Advance(5*time.Minute + time.Second)
		resp, body := dimoSubmit(t, ts, c.ID, state, w.Sign(t, ch))
		expect(t, resp, body, 400, "invalid_grant", "expired", true)
	})
	t.Run("dimo state of another client", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
		resp, body := dimoSubmit(t, ts, other.ID, state, w.Sign(t, ch))
		expect(t, resp, body, 400, "invalid_grant", "different client", true)
	})
	t.Run("dimo unknown state", func(t *testing.T) {
		resp, body := dimoSubmit(t, ts, c.ID, "nope", "0x00")
		expect(t, resp, body, 400, "invalid_grant", "state", true)
	})
	t.Run("dimo wrong grant_type", func(t *testing.T) {
		resp, body := postForm(t, ts.Issuer+"/auth/web3/submit_challenge", nil, url.Values{"client_id": {c.ID}, "grant_type": {"password"}, "state": {"x"}, "signature": {"0x00"}})
		expect(t, resp, body, 400, "unsupported_grant_type", "authorization_code", true)
	})
	sigCases := []struct {
		name, sig, code, desc string
	}{
		{"empty", "0x", "invalid_request", "hex"},
		{"not hex", "0xzz" + strings.Repeat("00", 64), "invalid_request", "hex"},
		{"63 bytes", "0x" + strings.Repeat("11", 63), "invalid_grant", "65 bytes"},
		{"66 bytes", "0x" + strings.Repeat("11", 66), "invalid_grant", "65 bytes"},
		{"bad v", "0x" + strings.Repeat("11", 64) + "1d", "invalid_grant", "recovery id"},
	}
	for _, sc := range sigCases {
		t.Run("dimo signature "+sc.name, func(t *testing.T) {
			state, _ := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
			resp, body := dimoSubmit(t, ts, c.ID, state, sc.sig)
			expect(t, resp, body, 400, sc.code, sc.desc, true)
		})
		t.Run("json signature "+sc.name, func(t *testing.T) {
			n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
			resp, body := verifyJSON(t, ts, n["message"].(string), sc.sig)
			expect(t, resp, body, 400, sc.code, sc.desc, false)
		})
	}
	t.Run("dimo signature by another key", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
		resp, body := dimoSubmit(t, ts, c.ID, state, newWallet(t).Sign(t, ch))
		expect(t, resp, body, 400, "invalid_grant", "does not match", true)
	})

	t.Run("json unknown client", func(t *testing.T) {
		resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/nonce", map[string]any{"address": w.Address(), "client_id": "nobody"})
		expect(t, resp, body, 401, "invalid_client", "unknown client", false)
	})
	t.Run("json bad address", func(t *testing.T) {
		resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/nonce", map[string]any{"address": "vitalik.eth", "client_id": c.ID})
		expect(t, resp, body, 400, "invalid_request", "address", false)
	})
	t.Run("json chain not allowed", func(t *testing.T) {
		resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/nonce", map[string]any{"address": w.Address(), "client_id": c.ID, "chain_id": 5})
		expect(t, resp, body, 400, "invalid_request", "chain", false)
	})
	t.Run("json malformed body", func(t *testing.T) {
		resp, err := http.Post(ts.Issuer+"/auth/verify", "application/json", strings.NewReader(`{"message": 7`))
		if err != nil {
			t.Fatal(err)
		}
		expect(t, resp, decodeBody(t, resp), 400, "invalid_request", "JSON", false)
	})
	t.Run("json message not EIP-4361", func(t *testing.T) {
		resp, body := verifyJSON(t, ts, "hello", "0x"+strings.Repeat("11", 65))
		expect(t, resp, body, 400, "invalid_request", "EIP-4361", false)
	})
	t.Run("json expired", func(t *testing.T) {
		n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
		clock.Advance(6 * time.Minute)
		msg := n["message"].(string)
		resp, body := verifyJSON(t, ts, msg, w.Sign(t, msg))
		expect(t, resp, body, 400, "invalid_grant", "expired", false)
	})
	t.Run("json replay", func(t *testing.T) {
		n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
		msg := n["message"].(string)
		sig := w.Sign(t, msg)
		if resp, body := verifyJSON(t, ts, msg, sig); resp.StatusCode != 200 {
			t.Fatalf("first: %v", body)
		}
		resp, body := verifyJSON(t, ts, msg, sig)
		expect(t, resp, body, 400, "invalid_grant", "already used", false)
	})
	// Every field of the message edited after issue, re-signed by the right key.
	edits := []struct{ name, old, new, desc string }{
		{"domain", u.Host + " wants you", "evil.example wants you", "domain"},
		{"uri", "URI: " + ts.Issuer, "URI: https://evil.example", "URI"},
		{"chain", "Chain ID: 1\n", "Chain ID: 137\n", "chain"},
		{"nonce", "Nonce: ", "Nonce: x", "nonce"},
	}
	for _, e := range edits {
		t.Run("json edited "+e.name, func(t *testing.T) {
			n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
			msg := strings.Replace(n["message"].(string), e.old, e.new, 1)
			if msg == n["message"] {
				t.Fatalf("edit %q did not apply", e.old)
			}
			resp, body := verifyJSON(t, ts, msg, w.Sign(t, msg))
			expect(t, resp, body, 400, "invalid_grant", e.desc, false)
		})
	}
	t.Run("json edited address", func(t *testing.T) {
		n := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": c.ID})
		w2 := newWallet(t)
		msg := strings.Replace(n["message"].(string), w.Address(), w2.Address(), 1)
		resp, body := verifyJSON(t, ts, msg, w2.Sign(t, msg))
		expect(t, resp, body, 400, "invalid_grant", "address", false)
	})
	t.Run("browser challenge through the headless API", func(t *testing.T) {
		bc, bs := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
		app := newRP(t, ts, bc.ID, bs)
		b := browser()
		id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		_, ch := postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": w.Address(), "chainId": 1})
		msg := ch["message"].(string)
		resp, body := verifyJSON(t, ts, msg, w.Sign(t, msg))
		expect(t, resp, body, 400, "invalid_grant", "browser", false)
	})
}

func TestHeadlessRateLimits(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 5, PerAddress: 2, Window: time.Minute}
	})
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	w := newWallet(t)
	ask := func(addr string) (*http.Response, map[string]any) {
		return postForm(t, ts.Issuer+"/auth/web3/generate_challenge", url.Values{
			"client_id": {c.ID}, "domain": {dimoDomain}, "scope": {"openid"}, "address": {addr},
		}, nil)
	}
	for i := range 2 {
		if resp, body := ask(w.Address()); resp.StatusCode != 200 {
			t.Fatalf("request %d: %v", i, body)
		}
	}
	resp, body := ask(w.Address())
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || body["message"] == nil {
		t.Fatalf("per-address limit: %d %v %q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	// Other addresses from the same IP until the IP's budget is spent.
	for i := range 2 {
		if resp, body := ask(newWallet(t).Address()); resp.StatusCode != 200 {
			t.Fatalf("other address %d: %v", i, body)
		}
	}
	if resp, _ := ask(newWallet(t).Address()); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("per-IP limit: %d", resp.StatusCode)
	}
	resp, body = verifyJSON(t, ts, "m", "0x00")
	if resp.StatusCode != http.StatusTooManyRequests || body["error"] != "too_many_requests" {
		t.Fatalf("verify endpoint: %d %v", resp.StatusCode, body)
	}
	clock.Advance(time.Minute)
	if resp, body := ask(w.Address()); resp.StatusCode != 200 {
		t.Fatalf("after the window: %d %v", resp.StatusCode, body)
	}
}

// TestHeadlessConcurrentSubmits: 50 parallel submits of one challenge give
// exactly one token response.
func TestHeadlessConcurrentSubmits(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	w := newWallet(t)
	state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
	sig := w.Sign(t, ch)
	oneWinner(t, 50, func() int {
		resp, _ := dimoSubmit(t, ts, c.ID, state, sig)
		return resp.StatusCode
	})
}

// TestHeadlessClientAuthentication: SPEC's client rules on the headless
// endpoints. A confidential client authenticates (HTTP Basic or body),
// a public one sends nothing, a developer license is authenticated by its
// signer's signature, and a client registered without the headless flows
// is refused.
func TestHeadlessClientAuthentication(t *testing.T) {
	ts := newTestServer(t, nil)
	conf, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	pub, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}, Public: true})
	signer := newWallet(t)
	lic, _ := ts.addClient(t, clients.Params{License: newWallet(t).Address(), ChainID: 1, Signers: []string{signer.Address()}, RedirectURIs: []string{dimoDomain}})
	browserOnly, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}, NoHeadless: true})
	w := newWallet(t)

	submit := func(clientID, state, sig string, form url.Values, basic [2]string) (*http.Response, map[string]any) {
		t.Helper()
		v := url.Values{"client_id": {clientID}, "domain": {dimoDomain}, "grant_type": {"authorization_code"}, "state": {state}, "signature": {sig}}
		for k, vs := range form {
			v[k] = vs
		}
		req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/auth/web3/submit_challenge", formBody(v))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic[0] != "" {
			req.SetBasicAuth(basic[0], basic[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp, decodeBody(t, resp)
	}
	wantClientError := func(t *testing.T, resp *http.Response, body map[string]any) {
		t.Helper()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("got %d %v (WWW-Authenticate %q), want 401 invalid_client", resp.StatusCode, body, resp.Header.Get("WWW-Authenticate"))
		}
	}

	t.Run("confidential without a secret", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, conf.ID, w.Address(), "openid")
		resp, body := submit(conf.ID, state, w.Sign(t, ch), nil, [2]string{})
		wantClientError(t, resp, body)
		// The refusal burnt nothing: with the secret, the same challenge signs in.
		if resp, body := submit(conf.ID, state, w.Sign(t, ch), url.Values{"client_secret": {secret}}, [2]string{}); resp.StatusCode != 200 {
			t.Fatalf("with the secret in the body: %d %v", resp.StatusCode, body)
		}
	})
	t.Run("confidential with a wrong secret", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, conf.ID, w.Address(), "openid")
		resp, body := submit(conf.ID, state, w.Sign(t, ch), nil, [2]string{conf.ID, "wrong"})
		wantClientError(t, resp, body)
	})
	t.Run("confidential with HTTP Basic", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, conf.ID, w.Address(), "openid")
		if resp, body := submit(conf.ID, state, w.Sign(t, ch), nil, [2]string{conf.ID, secret}); resp.StatusCode != 200 {
			t.Fatalf("Basic: %d %v", resp.StatusCode, body)
		}
	})
	t.Run("confidential on /auth/verify", func(t *testing.T) {
		msg := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": conf.ID})["message"].(string)
		resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": w.Sign(t, msg)})
		wantClientError(t, resp, body)
		resp, body = postJSON(t, http.DefaultClient, ts.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": w.Sign(t, msg), "client_id": pub.ID, "client_secret": secret})
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" || !strings.Contains(body["error_description"].(string), "different client") {
			t.Fatalf("another client's ID: %d %v", resp.StatusCode, body)
		}
		resp, body = postJSON(t, http.DefaultClient, ts.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": w.Sign(t, msg), "client_id": conf.ID, "client_secret": "wrong"})
		wantClientError(t, resp, body)
		resp, body = postJSON(t, http.DefaultClient, ts.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": w.Sign(t, msg), "client_id": conf.ID, "client_secret": secret})
		if resp.StatusCode != 200 {
			t.Fatalf("with credentials: %d %v", resp.StatusCode, body)
		}
	})
	t.Run("public client sends nothing", func(t *testing.T) {
		msg := nonceFor(t, ts, map[string]any{"address": w.Address(), "client_id": pub.ID})["message"].(string)
		resp, body := postJSON(t, http.DefaultClient, ts.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": w.Sign(t, msg)})
		if resp.StatusCode != 200 {
			t.Fatalf("public client: %d %v", resp.StatusCode, body)
		}
	})
	t.Run("license authenticated by its signer", func(t *testing.T) {
		state, ch := dimoChallenge(t, ts, lic.ID, lic.ID, "openid")
		if resp, body := submit(lic.ID, state, signer.Sign(t, ch), nil, [2]string{}); resp.StatusCode != 200 {
			t.Fatalf("license signer without a secret: %d %v", resp.StatusCode, body)
		}
		// The license's client is confidential: another account signing in
		// through it is an ordinary confidential sign-in.
		state, ch = dimoChallenge(t, ts, lic.ID, w.Address(), "openid")
		resp, body := submit(lic.ID, state, w.Sign(t, ch), nil, [2]string{})
		wantClientError(t, resp, body)
	})
	t.Run("client without the headless flows", func(t *testing.T) {
		resp, body := postForm(t, ts.Issuer+"/auth/web3/generate_challenge", url.Values{
			"client_id": {browserOnly.ID}, "domain": {dimoDomain}, "scope": {"openid"}, "response_type": {"code"}, "address": {w.Address()},
		}, nil)
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" || body["message"] == nil {
			t.Fatalf("generate_challenge: %d %v", resp.StatusCode, body)
		}
		resp, body = postJSON(t, http.DefaultClient, ts.Issuer+"/auth/nonce", map[string]any{"address": w.Address(), "client_id": browserOnly.ID})
		if resp.StatusCode != 400 || body["error"] != "unauthorized_client" {
			t.Fatalf("nonce: %d %v", resp.StatusCode, body)
		}
	})
}
