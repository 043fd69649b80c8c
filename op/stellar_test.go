package op_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/stellartest"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/siwe/stellar"
)

// Stellar accounts (SPEC "Non-EVM accounts") sign in through the JSON
// headless API with the server's CAIP-122 message, signed as issued with an
// ed25519 key made by Go's crypto/ed25519 (package stellartest).

// stellarNonce asks /auth/nonce for a Stellar account's challenge.
func stellarNonce(t *testing.T, ts *testServer, clientID, address, scope string) map[string]any {
	t.Helper()
	return nonceFor(t, ts, map[string]any{"address": address, "client_id": clientID, "scope": scope})
}

// wantNoEthereumLogin checks that the login behind a token (its jti) keeps
// no Ethereum address for a Stellar account.
func wantNoEthereumLogin(t *testing.T, ts *testServer, claims map[string]any) {
	t.Helper()
	tok, err := ts.DB.TokenByID(context.Background(), claims["jti"].(string))
	if err != nil || tok.Login.Address != "" || tok.Login.ChainID != 0 {
		t.Fatalf("the login of a Stellar account's token: %+v %v", tok, err)
	}
}

// wantStellarClaims checks a Stellar account's claims: its CAIP-10 sub and
// account_address, and no Ethereum address or chain.
func wantStellarClaims(t *testing.T, what string, claims map[string]any, address string) {
	t.Helper()
	_, eth := claims["ethereum_address"]
	_, chain := claims["chain_id"]
	if claims["sub"] != "stellar:pubnet:"+address || claims["account_address"] != address || eth || chain {
		t.Fatalf("%s: claims %v, want sub stellar:pubnet:%s, account_address, no ethereum_address or chain_id", what, claims, address)
	}
}

func TestStellarHeadlessSignIn(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)
	key := stellartest.New(t)

	n := stellarNonce(t, ts, c.ID, key.Address(), "openid profile siwe")
	msg, _ := n["message"].(string)
	head := mustURL(t, ts.Issuer).Host + " wants you to sign in with your Stellar account:\n" + key.Address() + "\n\n"
	if !strings.HasPrefix(msg, head) || !strings.Contains(msg, "\nURI: "+ts.Issuer+"\nVersion: 1\nChain ID: pubnet\nNonce: "+n["nonce"].(string)+"\n") ||
		n["chain_id"] != "pubnet" || n["uri"] != ts.Issuer {
		t.Fatalf("nonce answer %v; message:\n%s", n, msg)
	}
	sig := key.Sign(msg) // stellar_sdk's .hex(): no 0x
	resp, tok := verifyJSON(t, ts, msg, sig)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %v", resp.StatusCode, tok)
	}
	idt, claims := verifyIDToken(t, app, tok["id_token"].(string))
	wantStellarClaims(t, "ID token", claims, key.Address())
	if idt.Subject != "stellar:pubnet:"+key.Address() || claims["preferred_username"] != key.Address() ||
		claims["siwe_message"] != msg || claims["siwe_signature"] != "0x"+sig {
		t.Fatalf("ID token claims %v", claims)
	}
	access := tok["access_token"].(string)
	accessClaims := verifyJWT(t, app, access, c.ID)
	wantStellarClaims(t, "access token", accessClaims, key.Address())
	wantNoEthereumLogin(t, ts, accessClaims)
	wantStellarClaims(t, "userinfo", userinfo(t, ts, access), key.Address())
	got := introspect(t, ts, c.ID, secret, access)
	wantStellarClaims(t, "introspection", got, key.Address())
	if got["active"] != true || got["username"] != key.Address() {
		t.Fatalf("introspection %v", got)
	}

	// The same signed message again: the challenge is spent.
	resp, e := verifyJSON(t, ts, msg, sig)
	wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_grant", "already used", false)

	// A SEP-53 signature, and one with 0x, are taken too.
	for _, sign := range []func(string) string{key.SignSEP53, func(m string) string { return "0x" + key.Sign(m) }} {
		msg := stellarNonce(t, ts, c.ID, key.Address(), "")["message"].(string)
		if resp, tok := verifyJSON(t, ts, msg, sign(msg)); resp.StatusCode != http.StatusOK {
			t.Fatalf("verify: %d %v", resp.StatusCode, tok)
		}
	}
	// Discovery advertises account_address.
	var doc struct {
		Claims []string `json:"claims_supported"`
	}
	if err := app.provider.Claims(&doc); err != nil || !strings.Contains(strings.Join(doc.Claims, " "), "account_address") {
		t.Fatalf("claims_supported %v %v", doc.Claims, err)
	}
}

func TestStellarHeadlessRefuses(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	key, stranger := stellartest.New(t), stellartest.New(t)

	t.Run("another key, then the account's", func(t *testing.T) {
		msg := stellarNonce(t, ts, c.ID, key.Address(), "")["message"].(string)
		resp, e := verifyJSON(t, ts, msg, stranger.Sign(msg))
		wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_grant", "signature does not match the address", false)
		if resp, tok := verifyJSON(t, ts, msg, key.Sign(msg)); resp.StatusCode != http.StatusOK {
			t.Fatalf("a refused signature spent the challenge: %d %v", resp.StatusCode, tok)
		}
	})
	t.Run("message altered by one byte", func(t *testing.T) {
		msg := stellarNonce(t, ts, c.ID, key.Address(), "")["message"].(string)
		altered := strings.Replace(msg, "Sign in to", "Sign in tO", 1)
		resp, e := verifyJSON(t, ts, altered, key.Sign(altered))
		wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_grant", "not the text of its challenge", false)
	})
	t.Run("another client's challenge", func(t *testing.T) {
		msg := stellarNonce(t, ts, other.ID, key.Address(), "")["message"].(string)
		resp, e := postJSON(t, apiClient, ts.Issuer+"/auth/verify", map[string]any{
			"message": msg, "signature": key.Sign(msg), "client_id": c.ID, "client_secret": ts.secret(c.ID),
		})
		wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_grant", "different client", false)
	})
	t.Run("expired", func(t *testing.T) {
		msg := stellarNonce(t, ts, c.ID, key.Address(), "")["message"].(string)
		clock.Advance(siwe.DefaultLifetime + time.Second)
		resp, e := verifyJSON(t, ts, msg, key.Sign(msg))
		wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_grant", "expired", false)
	})
	t.Run("not an account ID", func(t *testing.T) {
		last := "A" // a last character unlike the address's own breaks its checksum
		if strings.HasSuffix(key.Address(), last) {
			last = "B"
		}
		for address, words := range map[string]string{
			key.Seed():                     "secret seed (S…), which must never be sent",
			key.Muxed(7):                   "muxed account (M…) is not accepted",
			strings.ToLower(key.Address()): "upper case",
			key.Address()[:55] + last:      "checksum",
			stellar.Address{}.String():     "all-zero",
		} {
			resp, e := postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": address, "client_id": c.ID})
			wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_request", words, false)
			if strings.Contains(e["error_description"].(string), address) {
				t.Fatalf("the answer echoes the address: %v", e)
			}
		}
		resp, e := postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": key.Address(), "client_id": c.ID, "chain_id": 1})
		wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_request", "pubnet", false)
	})
}

// TestStellarWhereEthereumOnly: the login page, DIMO's API, developer
// licenses and agents refuse a Stellar account with a 400 that says so.
func TestStellarWhereEthereumOnly(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect, dimoDomain}})
	key := stellartest.New(t)
	const only = "Ethereum accounts only"

	resp, e := postForm(t, ts.Issuer+"/auth/web3/generate_challenge", nil, map[string][]string{
		"client_id": {c.ID}, "domain": {dimoDomain}, "scope": {"openid"}, "response_type": {"code"}, "address": {key.Address()},
	})
	wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_request", only, true)

	b, app := browser(), newRP(t, ts, c.ID, secret)
	id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	resp, e = postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": key.Address(), "chainId": 1})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e["error_description"].(string), only) {
		t.Fatalf("login page: %d %v", resp.StatusCode, e)
	}

	license, _ := ts.addClient(t, clients.Params{License: newWallet(t).Address(), ChainID: 1, Signers: []string{newWallet(t).Address()}, RedirectURIs: []string{testRedirect}})
	resp, e = postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": key.Address(), "client_id": license.ID})
	wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_request", "developer-license", false)

	resp, e = postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": key.Address(), "client_id": c.ID,
		"agent_id": 1, "agent_registry": "eip155:1:0x8004A818BFB912233c491871b3d84c89A494BD9e"})
	wantOAuthError(t, resp, e, http.StatusBadRequest, "invalid_request", "agent", false)
}

// TestStellarConcurrentVerify: of 20 submissions of one signed Stellar
// challenge at once, exactly one gets tokens.
func TestStellarConcurrentVerify(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	key := stellartest.New(t)
	msg := stellarNonce(t, ts, c.ID, key.Address(), "")["message"].(string)
	sig := key.Sign(msg)
	oneWinner(t, 20, func() int {
		resp, _ := verifyJSON(t, ts, msg, sig)
		return resp.StatusCode
	})
}

// TestStellarRateLimitedPerAccount: the per-address budget of a caller
// counts a Stellar account's requests by its G… address.
func TestStellarRateLimitedPerAccount(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 100, PerAddress: 2, Window: time.Minute}
	})
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	key := stellartest.New(t)
	stellarNonce(t, ts, c.ID, key.Address(), "")
	stellarNonce(t, ts, c.ID, key.Address(), "")
	resp, e := postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": key.Address(), "client_id": c.ID})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third nonce for one account: %d %v", resp.StatusCode, e)
	}
	stellarNonce(t, ts, c.ID, stellartest.New(t).Address(), "") // another account's budget is its own
}

// TestStellarAPIKeys: a Stellar wallet's access token makes API keys, which
// introspection and the token exchange answer for with its subject; the
// exchanged token carries account_address and no Ethereum claims. On
// SQLite and PostgreSQL (whose logins keep Ethereum addresses only).
func TestStellarAPIKeys(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		ts := newTestServerDSN(t, dsn, nil)
		c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Scopes: []string{"read", "trade"}})
		key := stellartest.New(t)
		msg := stellarNonce(t, ts, c.ID, key.Address(), "openid read trade")["message"].(string)
		resp, tok := verifyJSON(t, ts, msg, key.Sign(msg))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("verify: %d %v", resp.StatusCode, tok)
		}
		made := createKey(t, ts, tok["access_token"].(string), "bot", "read")
		apiKey := made["key"].(string)
		if got := introspect(t, ts, c.ID, secret, apiKey); got["active"] != true || got["sub"] != "stellar:pubnet:"+key.Address() ||
			got["account_address"] != key.Address() || got["scope"] != "read" {
			t.Fatalf("introspection of the key: %v", got)
		}
		resp, ex := exchangeKey(t, ts, c.ID, secret, apiKey, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange: %d %v", resp.StatusCode, ex)
		}
		exchanged := ex["access_token"].(string)
		claims := verifyJWT(t, newRP(t, ts, c.ID, secret), exchanged, c.ID)
		wantStellarClaims(t, "exchanged token", claims, key.Address())
		wantNoEthereumLogin(t, ts, claims)
		wantStellarClaims(t, "its introspection", introspect(t, ts, c.ID, secret, exchanged), key.Address())
		wantStellarClaims(t, "its userinfo", userinfo(t, ts, exchanged), key.Address())
	})
}
