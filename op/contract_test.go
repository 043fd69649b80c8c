package op_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// Contract wallets and on-chain developer licenses, end to end over HTTP:
// Signet with a siwe.ContractChecker in front of go-ethereum's simulated
// chain (siwe/chaintest), or of an RPC endpoint that is dead, slow or absent.

// simChain is the chain ID of go-ethereum's simulated backend.
const simChain = 1337

// Error descriptions of the contract checker that these tests pin.
const (
	descRejected = "the contract wallet rejected the signature"
	descNoAnswer = "the RPC endpoint for chain 1337 did not answer"
	descNoRPC    = "contract-wallet signatures on chain 1337 need an RPC endpoint, which is not configured"
)

// newCheckedServer serves Signet on chains 1 and 1337 with a
// siwe.ContractChecker over callers.
func newCheckedServer(t testing.TB, callers map[int64]siwe.ContractCaller, timeout time.Duration) *testServer {
	t.Helper()
	checker := siwe.NewContractChecker(callers, timeout)
	return newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "",
		func(d *op.Deps) { d.Signatures = checker },
		func(c *op.Config) { c.ChainIDs = []int64{1, simChain} })
}

// eip191Hash is the EIP-191 hash a wallet signs for message.
func eip191Hash(message string) common.Hash { return siwe.TextHash([]byte(message)) }

// sign6492 signs message with w's key and wraps the signature for the
// counterfactual wallet that factory deploys for w with salt.
func sign6492(t testing.TB, w *wallet, factory common.Address, salt [32]byte, message string) string {
	t.Helper()
	inner := chaintest.Sign(t, w.key, eip191Hash(message))
	return hexutil.Encode(chaintest.Wrap6492(t, factory, chaintest.DeployCalldata(t, walletAddr(w), salt), inner))
}

// walletAddr is the address of w's key.
func walletAddr(w *wallet) common.Address { return common.HexToAddress(w.Address()) }

// wantOAuthError checks an OAuth error answer: status, error code, a description
// containing fragment, DIMO's "message" when withMessage, and no internal
// error text anywhere in the body.
func wantOAuthError(t testing.TB, resp *http.Response, body map[string]any, status int, code, fragment string, withMessage bool) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("answer %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
	desc, _ := body["error_description"].(string)
	if !strings.Contains(desc, fragment) {
		t.Fatalf("error_description = %q, want it to contain %q", desc, fragment)
	}
	if withMessage && body["message"] != desc {
		t.Fatalf("message = %v, want the error_description %q", body["message"], desc)
	}
	raw, _ := json.Marshal(body)
	for _, leak := range []string{"dial tcp", "connection refused", "dead node", "siwe:", "context deadline", "context canceled", "goroutine", ".go:"} {
		if bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(leak))) {
			t.Fatalf("body carries internal error text %q: %s", leak, raw)
		}
	}
}

// wantTokens checks a 200 token answer whose access and ID tokens verify
// offline and name account on chain 1337 (sub, ethereum_address, chain_id)
// and signer (empty: no signer claim).
func wantTokens(t testing.TB, app *rp, resp *http.Response, tok map[string]any, clientID string, account common.Address, signer string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("answer %d %v, want 200 and tokens", resp.StatusCode, tok)
	}
	if tok["token_type"] != "Bearer" || tok["access_token"] == nil || tok["id_token"] == nil {
		t.Fatalf("token response = %v", tok)
	}
	at := verifyJWT(t, app, tok["access_token"].(string), clientID)
	_, id := verifyIDToken(t, app, tok["id_token"].(string))
	wantClaims(t, "access token", at, account, signer)
	wantClaims(t, "ID token", id, account, signer)
}

func wantClaims(t testing.TB, what string, claims map[string]any, account common.Address, signer string) {
	t.Helper()
	wantSub := "eip155:1337:" + account.Hex()
	if claims["sub"] != wantSub || claims["ethereum_address"] != account.Hex() || claims["chain_id"] != float64(simChain) {
		t.Fatalf("%s: sub %v, ethereum_address %v, chain_id %v; want %s, %s, %d",
			what, claims["sub"], claims["ethereum_address"], claims["chain_id"], wantSub, account.Hex(), simChain)
	}
	got, has := claims["signer"]
	switch {
	case signer == "" && has:
		t.Fatalf("%s: signer = %v, want no signer claim", what, got)
	case signer != "" && got != signer:
		t.Fatalf("%s: signer = %v, want %s", what, got, signer)
	}
}

// apiClient gives up on an answer after 10 s, so a server that hangs on
// its RPC endpoint fails a test instead of stalling it.
var apiClient = &http.Client{Timeout: 10 * time.Second}

// verifyJSON posts a signed message to /auth/verify, with the client
// credentials of the client its nonce was issued to, as an agent of that
// client does.
func verifyJSON(t testing.TB, ts *testServer, message, signature string) (*http.Response, map[string]any) {
	t.Helper()
	body := map[string]any{"message": message, "signature": signature}
	for line := range strings.Lines(message) {
		if nonce, ok := strings.CutPrefix(strings.TrimSpace(line), "Nonce: "); ok {
			if ch, err := ts.DB.ChallengeByNonce(context.Background(), nonce); err == nil {
				body["client_id"], body["client_secret"] = ch.ClientID, ts.secret(ch.ClientID)
			}
		}
	}
	return postJSON(t, apiClient, ts.Issuer+"/auth/verify", body)
}

// dimoSubmitTimed is dimoSubmit through apiClient.
func dimoSubmitTimed(t testing.TB, ts *testServer, clientID, state, signature string) (*http.Response, map[string]any) {
	t.Helper()
	form := url.Values{"client_id": {clientID}, "client_secret": {ts.secret(clientID)}, "domain": {dimoDomain}, "grant_type": {"authorization_code"}, "state": {state}, "signature": {signature}}
	resp, err := apiClient.PostForm(ts.Issuer+"/auth/web3/submit_challenge", form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

// jsonChallenge asks /auth/nonce for a message for address on chain.
func jsonChallenge(t testing.TB, ts *testServer, clientID string, address common.Address, chain int64) string {
	t.Helper()
	n := nonceFor(t, ts, map[string]any{"address": address.Hex(), "client_id": clientID, "chain_id": chain})
	if n["chain_id"] != float64(chain) {
		t.Fatalf("nonce on chain %v, want %d", n["chain_id"], chain)
	}
	return n["message"].(string)
}

// loginChallenge is the login page asking for the message that address
// signs on chain.
func loginChallenge(t testing.TB, ts *testServer, b *http.Client, authRequestID string, address common.Address, chain int64) (challengeID, message string) {
	t.Helper()
	resp, ch := postJSON(t, b, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": authRequestID, "address": address.Hex(), "chainId": chain})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login challenge: %d %v", resp.StatusCode, ch)
	}
	return ch["challengeId"].(string), ch["message"].(string)
}

// loginVerify is the login page posting the signature back.
func loginVerify(t testing.TB, ts *testServer, b *http.Client, authRequestID, challengeID, signature string) (*http.Response, map[string]any) {
	t.Helper()
	return postJSON(t, b, ts.Issuer+"/login/verify", map[string]any{"authRequestID": authRequestID, "challengeId": challengeID, "signature": signature})
}

// signInFor is signIn for an account that is not the signing key's own
// (a contract wallet): it follows the login page's calls and the callback,
// and returns the client's redirect URI with the code.
func signInFor(t testing.TB, ts *testServer, b *http.Client, authRequestID string, account common.Address, sign func(message string) string) *url.URL {
	t.Helper()
	id, msg := loginChallenge(t, ts, b, authRequestID, account, simChain)
	resp, v := loginVerify(t, ts, b, authRequestID, id, sign(msg))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login verify: %d %v", resp.StatusCode, v)
	}
	return followCallback(t, b, v["redirect"].(string))
}

// TestLicenseOnChain: a developer-license client with no registered signers;
// the license contract on the chain decides (ERC-1271), through DIMO's
// endpoints and the JSON ones.
func TestLicenseOnChain(t *testing.T) {
	chain := chaintest.New(t)
	if chain.ChainID() != simChain {
		t.Fatalf("simulated chain ID = %d, want %d", chain.ChainID(), simChain)
	}
	enabled, stranger := newWallet(t), newWallet(t)
	license := chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "DevLicense"), []string{"address[]"}, []common.Address{walletAddr(enabled)}))
	ts := newCheckedServer(t, map[int64]siwe.ContractCaller{chain.ChainID(): chain.Client()}, 0)
	c, secret := ts.addClient(t, clients.Params{License: license.Hex(), ChainID: simChain, RedirectURIs: []string{dimoDomain}})
	if c.ID != license.Hex() || len(c.Signers) != 0 {
		t.Fatalf("license client %s with signers %v, want %s and none", c.ID, c.Signers, license.Hex())
	}
	app := newRP(t, ts, c.ID, secret)

	t.Run("DIMO", func(t *testing.T) {
		state, challenge := dimoChallenge(t, ts, c.ID, c.ID, "openid email")
		if !strings.Contains(challenge, "\nChain ID: 1337\n") || !strings.Contains(challenge, "\n"+license.Hex()+"\n") {
			t.Fatalf("challenge is not for the license on chain 1337:\n%s", challenge)
		}
		resp, body := dimoSubmit(t, ts, c.ID, state, stranger.Sign(t, challenge))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descRejected, true)
		// The rejection did not burn the challenge: the enabled signer uses it.
		resp, tok := dimoSubmit(t, ts, c.ID, state, enabled.Sign(t, challenge))
		wantTokens(t, app, resp, tok, c.ID, license, enabled.Address())
		resp, body = dimoSubmit(t, ts, c.ID, state, enabled.Sign(t, challenge))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "", true)
	})
	t.Run("JSON", func(t *testing.T) {
		msg := jsonChallenge(t, ts, c.ID, license, simChain)
		resp, body := verifyJSON(t, ts, msg, stranger.Sign(t, msg))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descRejected, false)
		resp, tok := verifyJSON(t, ts, msg, enabled.Sign(t, msg))
		wantTokens(t, app, resp, tok, c.ID, license, enabled.Address())
	})
	t.Run("JSON, license address without chain_id", func(t *testing.T) {
		// The license signs in on its own chain, whatever the server's default.
		n := nonceFor(t, ts, map[string]any{"address": strings.ToLower(license.Hex()), "client_id": c.ID})
		if n["chain_id"] != float64(simChain) {
			t.Fatalf("nonce on chain %v, want %d", n["chain_id"], simChain)
		}
		msg := n["message"].(string)
		resp, tok := verifyJSON(t, ts, msg, enabled.Sign(t, msg))
		wantTokens(t, app, resp, tok, c.ID, license, enabled.Address())
	})
}

// TestContractWalletSignIn: an ERC-1271 wallet and an ERC-6492
// counterfactual wallet sign in headless and through the login page.
func TestContractWalletSignIn(t *testing.T) {
	chain := chaintest.New(t)
	owner, stranger := newWallet(t), newWallet(t)
	wallet := chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "Wallet1271"), []string{"address"}, walletAddr(owner)))
	factory := chain.Deploy(t, chaintest.Contract(t, "WalletFactory"))
	salt := [32]byte{31: 42}
	cf := chaintest.FactoryWallet(t, factory, walletAddr(owner), salt)
	ts := newCheckedServer(t, map[int64]siwe.ContractCaller{chain.ChainID(): chain.Client()}, 0)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)

	t.Run("JSON, ERC-1271 wallet", func(t *testing.T) {
		msg := jsonChallenge(t, ts, c.ID, wallet, simChain)
		resp, body := verifyJSON(t, ts, msg, stranger.Sign(t, msg))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descRejected, false)
		resp, tok := verifyJSON(t, ts, msg, owner.Sign(t, msg))
		// A plain signature the wallet accepted names the key that made it.
		wantTokens(t, app, resp, tok, c.ID, wallet, owner.Address())
	})
	t.Run("JSON, ERC-6492 counterfactual wallet", func(t *testing.T) {
		msg := jsonChallenge(t, ts, c.ID, cf, simChain)
		resp, body := verifyJSON(t, ts, msg, sign6492(t, stranger, factory, salt, msg))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descRejected, false)
		resp, tok := verifyJSON(t, ts, msg, sign6492(t, owner, factory, salt, msg))
		wantTokens(t, app, resp, tok, c.ID, cf, "")
		if code := chain.Code(t, cf); len(code) != 0 {
			t.Fatalf("the sign-in deployed the counterfactual wallet %s", cf)
		}
	})

	browserSignIn := func(t *testing.T, account common.Address, sign func(string) string, signer string) {
		t.Helper()
		verifier := oauth2.GenerateVerifier()
		b := browser()
		id := authorize(t, ts, b, app.config.AuthCodeURL("st-1271", oauth2.S256ChallengeOption(verifier)))
		cb := signInFor(t, ts, b, id, account, sign)
		q := cb.Query()
		if got := cb.Scheme + "://" + cb.Host + cb.Path; got != testRedirect || q.Get("code") == "" || q.Get("state") != "st-1271" || q.Get("iss") != ts.Issuer {
			t.Fatalf("callback = %s", cb)
		}
		tok, err := app.config.Exchange(app.ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		_, claims := verifyIDToken(t, app, raw)
		wantClaims(t, "ID token", claims, account, signer)
		wantClaims(t, "access token", verifyJWT(t, app, tok.AccessToken, c.ID), account, signer)
	}
	t.Run("browser, ERC-1271 wallet", func(t *testing.T) {
		browserSignIn(t, wallet, func(msg string) string { return owner.Sign(t, msg) }, owner.Address())
	})
	t.Run("browser, ERC-6492 counterfactual wallet", func(t *testing.T) {
		browserSignIn(t, cf, func(msg string) string { return sign6492(t, owner, factory, salt, msg) }, "")
	})
	t.Run("browser, ERC-1271 wallet, other key", func(t *testing.T) {
		b := browser()
		id := authorize(t, ts, b, app.config.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		chID, msg := loginChallenge(t, ts, b, id, wallet, simChain)
		resp, body := loginVerify(t, ts, b, id, chID, stranger.Sign(t, msg))
		// The login page gets the same error in words for a person.
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "did not approve this signature", false)
	})
}

// TestRPCDown: when chain 1337's RPC endpoint fails or hangs, sign-ins that
// need it answer 503 temporarily_unavailable quickly, without internal
// error text; those that do not need it still work.
func TestRPCDown(t *testing.T) {
	factory := common.HexToAddress("0x00000000000000000000000000000000000fac70")
	salt := [32]byte{31: 1}

	for _, tc := range []struct {
		name    string
		caller  siwe.ContractCaller
		timeout time.Duration
	}{
		{"dead", chaintest.DeadCaller{}, 0},
		{"slow", chaintest.HangingCaller{}, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newCheckedServer(t, map[int64]siwe.ContractCaller{simChain: tc.caller}, tc.timeout)
			c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain, testRedirect}})
			owner, signer := newWallet(t), newWallet(t)
			cf := chaintest.FactoryWallet(t, factory, walletAddr(owner), salt)
			// A license on chain 1337 with one registered (offline) signer;
			// any other key needs the license contract, hence the RPC.
			license := common.HexToAddress("0x00000000000000000000000000000000001ce115")
			lc, _ := ts.addClient(t, clients.Params{License: license.Hex(), ChainID: simChain, Signers: []string{signer.Address()}, RedirectURIs: []string{dimoDomain}})

			// timed fails a request that takes longer than the checker's
			// timeout allows (the RPC hangs: only the timeout ends it).
			timed := func(t *testing.T, f func()) {
				t.Helper()
				start := time.Now()
				f()
				if took := time.Since(start); took > 2*time.Second {
					t.Fatalf("answer took %v", took)
				}
			}

			t.Run("JSON, ERC-6492 wallet", func(t *testing.T) {
				msg := jsonChallenge(t, ts, c.ID, cf, simChain)
				timed(t, func() {
					resp, body := verifyJSON(t, ts, msg, sign6492(t, owner, factory, salt, msg))
					wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", descNoAnswer, false)
				})
			})
			t.Run("JSON, 65-byte signature for an account on chain 1337", func(t *testing.T) {
				// Whether the account has code is the first question, and only
				// the RPC can answer it.
				msg := jsonChallenge(t, ts, c.ID, cf, simChain)
				timed(t, func() {
					resp, body := verifyJSON(t, ts, msg, owner.Sign(t, msg))
					wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", descNoAnswer, false)
				})
			})
			t.Run("JSON, EOA's own signature on chain 1337", func(t *testing.T) {
				// A plain wallet's own signature is checked offline: a dead
				// node on its chain does not lock it out.
				msg := jsonChallenge(t, ts, c.ID, walletAddr(owner), simChain)
				timed(t, func() {
					resp, body := verifyJSON(t, ts, msg, owner.Sign(t, msg))
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("EOA with its RPC down: %d %v", resp.StatusCode, body)
					}
				})
			})
			t.Run("DIMO, license checked on chain", func(t *testing.T) {
				state, challenge := dimoChallenge(t, ts, lc.ID, lc.ID, "openid")
				timed(t, func() {
					resp, body := dimoSubmitTimed(t, ts, lc.ID, state, newWallet(t).Sign(t, challenge))
					wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", descNoAnswer, true)
				})
				timed(t, func() {
					resp, body := dimoSubmitTimed(t, ts, lc.ID, state, sign6492(t, owner, factory, salt, challenge))
					wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", descNoAnswer, true)
				})
				// A registered signer is checked offline: the failures above
				// left the challenge unused, and it still works.
				resp, tok := dimoSubmitTimed(t, ts, lc.ID, state, signer.Sign(t, challenge))
				if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
					t.Fatalf("registered signer with the RPC down: %d %v", resp.StatusCode, tok)
				}
			})
			t.Run("browser, ERC-6492 wallet", func(t *testing.T) {
				b := browser()
				app := newRP(t, ts, c.ID, secret)
				id := authorize(t, ts, b, app.config.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
				chID, msg := loginChallenge(t, ts, b, id, cf, simChain)
				timed(t, func() {
					resp, body := loginVerify(t, ts, b, id, chID, sign6492(t, owner, factory, salt, msg))
					wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", "could not reach the network", false)
				})
			})
			t.Run("EOA on chain 1 (no RPC needed)", func(t *testing.T) {
				w := newWallet(t)
				msg := jsonChallenge(t, ts, c.ID, walletAddr(w), 1)
				resp, tok := verifyJSON(t, ts, msg, w.Sign(t, msg))
				if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
					t.Fatalf("JSON: %d %v", resp.StatusCode, tok)
				}
				state, challenge := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
				if !strings.Contains(challenge, "\nChain ID: 1\n") {
					t.Fatalf("DIMO challenge not on chain 1:\n%s", challenge)
				}
				resp, tok = dimoSubmitTimed(t, ts, c.ID, state, w.Sign(t, challenge))
				if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
					t.Fatalf("DIMO: %d %v", resp.StatusCode, tok)
				}
			})
		})
	}
}

// TestContractSignatureWithoutRPC: with no RPC endpoint for the chain (what
// `signet serve` builds when none is configured), a contract-wallet
// signature is refused with a description that says why.
func TestContractSignatureWithoutRPC(t *testing.T) {
	ts := newCheckedServer(t, nil, 0)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}})
	owner := newWallet(t)
	factory := common.HexToAddress("0x00000000000000000000000000000000000fac70")
	salt := [32]byte{31: 3}
	cf := chaintest.FactoryWallet(t, factory, walletAddr(owner), salt)

	t.Run("JSON, ERC-6492 wallet", func(t *testing.T) {
		msg := jsonChallenge(t, ts, c.ID, cf, simChain)
		resp, body := verifyJSON(t, ts, msg, sign6492(t, owner, factory, salt, msg))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descNoRPC, false)
	})
	t.Run("DIMO, ERC-6492 signature for a license", func(t *testing.T) {
		license := common.HexToAddress("0x00000000000000000000000000000000001ce115")
		lc, _ := ts.addClient(t, clients.Params{License: license.Hex(), ChainID: simChain, RedirectURIs: []string{dimoDomain}})
		state, challenge := dimoChallenge(t, ts, lc.ID, lc.ID, "openid")
		resp, body := dimoSubmit(t, ts, lc.ID, state, sign6492(t, owner, factory, salt, challenge))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descNoRPC, true)
	})
	t.Run("EOA on chain 1337", func(t *testing.T) {
		w := newWallet(t)
		msg := jsonChallenge(t, ts, c.ID, walletAddr(w), simChain)
		resp, tok := verifyJSON(t, ts, msg, w.Sign(t, msg))
		if resp.StatusCode != http.StatusOK || tok["access_token"] == nil {
			t.Fatalf("EOA without an RPC: %d %v", resp.StatusCode, tok)
		}
	})
}
