package op_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/stellartest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// The dob wire profile: DobProtocol's Agent API authentication as its
// documentation (docs.dobprotocol.com, agent-api/authentication and
// agent-api/api-keys) has agents call it, replayed byte for byte against
// <issuer>/compat/<client_id> with only the base URL changed:
//
//	curl -X POST https://home.dobprotocol.com/api/agent/auth/nonce \
//	  -H "Content-Type: application/json" \
//	  -d '{"wallet_address": "GBDM6KRXXJHKVYFJPTPW3WBDKUYVCH7NNEI67DDCP7YX4UHX2GODPHGI"}'
//	keypair = Keypair.from_secret("S…")                      # Stellar
//	signature = keypair.sign(message.encode()).hex()
//	signed = Account.sign_message(encode_defunct(text=message), private_key="0x...")  # EVM
//	signature = signed.signature.hex()
//	requests.post(f"{BASE}/api/agent/auth/verify", json={"wallet_address": WALLET, "signature": signature, "chain": "stellar"})
//	requests.post(f"{BASE}/api/agent/auth/keys", headers={"Authorization": f"Bearer {jwt_token}"},
//	    json={"label": "my-trading-bot", "scopes": ["read", "trade"]})
//	requests.get(f"{BASE}/api/agent/auth/keys", headers={"Authorization": f"Bearer {jwt_token}"})
//	curl https://home.dobprotocol.com/api/agent/pools?network_id=10 -H "X-API-Key: dob_ak_…"

// curlDo sends what curl sends: its User-Agent and Accept, and the -d body
// as written.
func curlDo(t *testing.T, method, u, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "curl/8.5.0")
	req.Header.Set("Accept", "*/*")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

// pyDo sends what python-requests sends: a json= body as json.dumps wrote
// it (or none), with the headers given.
func pyDo(t *testing.T, method, u, body string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "python-requests/2.32.3")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q", method, u, ct)
	}
	return resp, decodeBody(t, resp)
}

// dobData returns the data of Dob's success envelope, which must be all of it.
func dobData(t *testing.T, what string, resp *http.Response, body map[string]any, status int) map[string]any {
	t.Helper()
	data, _ := body["data"].(map[string]any)
	if resp.StatusCode != status || body["success"] != true || len(body) != 2 || data == nil {
		t.Fatalf("%s: %d %v, want %d {success: true, data: {…}}", what, resp.StatusCode, body, status)
	}
	return data
}

// wantDobError checks Dob's error envelope {success: false, error: {code, message}}.
func wantDobError(t *testing.T, what string, resp *http.Response, body map[string]any, status int, code, words string) {
	t.Helper()
	e, _ := body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	if resp.StatusCode != status || body["success"] != false || len(body) != 2 || len(e) != 2 || e["code"] != code || msg == "" || !strings.Contains(msg, words) {
		t.Fatalf("%s: %d %v, want %d {success: false, error: {code: %s, message: …%s…}}", what, resp.StatusCode, body, status, code, words)
	}
}

// dobNonce is the documented nonce request; it returns the data.
func dobNonce(t *testing.T, base, wallet string) map[string]any {
	t.Helper()
	resp, body := curlDo(t, "POST", base+"/api/agent/auth/nonce", `{"wallet_address": "`+wallet+`"}`, "Content-Type", "application/json")
	data := dobData(t, "nonce", resp, body, http.StatusOK)
	if len(data) != 3 || data["nonce"] == "" || data["message"] == "" || data["expires_at"] == "" {
		t.Fatalf("nonce data %v", data)
	}
	return data
}

// dobVerify is the verify request, as python-requests sends it.
func dobVerify(t *testing.T, base, wallet, signature, chain string) (*http.Response, map[string]any) {
	t.Helper()
	return pyDo(t, "POST", base+"/api/agent/auth/verify", pyDumps("wallet_address", wallet, "signature", signature, "chain", chain))
}

// dobSignIn signs a wallet in and returns the token.
func dobSignIn(t *testing.T, base, wallet, chain string, sign func(string) string) string {
	t.Helper()
	n := dobNonce(t, base, wallet)
	resp, body := dobVerify(t, base, wallet, sign(n["message"].(string)), chain)
	return dobData(t, "verify", resp, body, http.StatusOK)["token"].(string)
}

var dobTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

func TestDobProfileDocumentedFlow(t *testing.T) {
	ts := newTestServer(t, nil)
	// Confidential, yet its profile takes no secret (SPEC "Wire profiles").
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob", Scopes: []string{"read", "trade"}})
	base := ts.Issuer + "/compat/" + c.ID
	key, evm := stellartest.New(t), newWallet(t)

	n := dobNonce(t, base, key.Address())
	message := n["message"].(string)
	head := mustURL(t, ts.Issuer).Host + " wants you to sign in with your Stellar account:\n" + key.Address() + "\n"
	expires, err := time.Parse(time.RFC3339, n["expires_at"].(string))
	if !strings.HasPrefix(message, head) || !strings.Contains(message, "\nNonce: "+n["nonce"].(string)+"\n") || err != nil ||
		!dobTime.MatchString(n["expires_at"].(string)) || time.Until(expires) > siwe.DefaultLifetime || time.Until(expires) < siwe.DefaultLifetime-time.Minute {
		t.Fatalf("nonce: %v\n%s", n, message)
	}
	sig := key.Sign(message) // keypair.sign(message.encode()).hex()
	resp, body := dobVerify(t, base, key.Address(), sig, "stellar")
	data := dobData(t, "verify", resp, body, http.StatusOK)
	if len(data) != 3 || data["wallet_address"] != key.Address() || !dobTime.MatchString(data["expires_at"].(string)) {
		t.Fatalf("verify data %v", data)
	}
	idt, claims := profileToken(t, ts, c.ID, data["token"].(string), time.Now)
	if life := idt.Expiry.Sub(idt.IssuedAt); life != 24*time.Hour {
		t.Fatalf("the token lives %s, want the profile's 24h", life)
	}
	wantStellarClaims(t, "dob token", claims, key.Address())
	if got, _ := time.Parse(time.RFC3339, data["expires_at"].(string)); got.Sub(idt.Expiry).Abs() > time.Second || claims["scope"] != "openid read trade" || len(idt.Audience) != 1 {
		t.Fatalf("expires_at %v, token expiry %v, claims %v", data["expires_at"], idt.Expiry, claims)
	}

	// The same request again: the challenge is spent, and the wallet has no other.
	resp, body = dobVerify(t, base, key.Address(), sig, "stellar")
	wantDobError(t, "replay", resp, body, http.StatusUnauthorized, "UNAUTHORIZED", "no open challenge")

	// An EVM wallet: eth_account's signed.signature.hex(), without 0x
	// (hexbytes 1.x) or with it (older versions).
	for _, sign := range []func(string) string{
		func(m string) string { return strings.TrimPrefix(evm.Sign(t, m), "0x") },
		func(m string) string { return evm.Sign(t, m) },
	} {
		n := dobNonce(t, base, evm.Address())
		if !strings.HasPrefix(n["message"].(string), mustURL(t, ts.Issuer).Host+" wants you to sign in with your Ethereum account:\n"+evm.Address()+"\n") {
			t.Fatalf("EVM message:\n%s", n["message"])
		}
		resp, body := dobVerify(t, base, evm.Address(), sign(n["message"].(string)), "evm")
		data := dobData(t, "EVM verify", resp, body, http.StatusOK)
		if _, claims := profileToken(t, ts, c.ID, data["token"].(string), time.Now); data["wallet_address"] != evm.Address() ||
			claims["sub"] != "eip155:1:"+evm.Address() || claims["account_address"] != evm.Address() || claims["ethereum_address"] != evm.Address() {
			t.Fatalf("EVM sign-in: %v %v", data, claims)
		}
	}
}

func TestDobProfileRefuses(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob"})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob"})
	base, otherBase := ts.Issuer+"/compat/"+c.ID, ts.Issuer+"/compat/"+other.ID
	key, stranger := stellartest.New(t), stellartest.New(t)

	t.Run("malformed", func(t *testing.T) {
		for name, body := range map[string]string{
			"no wallet_address": `{}`,
			"a secret seed":     pyDumps("wallet_address", key.Seed()),
			"a muxed account":   pyDumps("wallet_address", key.Muxed(1)),
			"not JSON":          "wallet_address=" + key.Address(),
		} {
			resp, e := pyDo(t, "POST", base+"/api/agent/auth/nonce", body)
			wantDobError(t, "nonce, "+name, resp, e, http.StatusBadRequest, "VALIDATION_ERROR", "")
		}
		resp, e := pyDo(t, "POST", base+"/api/agent/auth/nonce", pyDumps("wallet_address", key.Seed()))
		wantDobError(t, "a seed's words", resp, e, http.StatusBadRequest, "VALIDATION_ERROR", "secret seed (S…), which must never be sent")
		message := dobNonce(t, base, key.Address())["message"].(string)
		sig := key.Sign(message)
		for name, body := range map[string]string{
			"no signature":      pyDumps("wallet_address", key.Address(), "chain", "stellar"),
			"another chain":     pyDumps("wallet_address", key.Address(), "signature", sig, "chain", "solana"),
			"chain evm":         pyDumps("wallet_address", key.Address(), "signature", sig, "chain", "evm"),
			"not a signature":   pyDumps("wallet_address", key.Address(), "signature", "zz"+sig[2:], "chain", "stellar"),
			"a short signature": pyDumps("wallet_address", key.Address(), "signature", sig[:64], "chain", "stellar"),
		} {
			resp, e := pyDo(t, "POST", base+"/api/agent/auth/verify", body)
			wantDobError(t, "verify, "+name, resp, e, http.StatusBadRequest, "VALIDATION_ERROR", "")
		}
		// None of them spent the challenge; no chain is taken too.
		resp, body := pyDo(t, "POST", base+"/api/agent/auth/verify", pyDumps("wallet_address", key.Address(), "signature", sig))
		dobData(t, "after malformed requests", resp, body, http.StatusOK)
	})
	t.Run("another key, then the wallet's", func(t *testing.T) {
		message := dobNonce(t, base, key.Address())["message"].(string)
		resp, e := dobVerify(t, base, key.Address(), stranger.Sign(message), "stellar")
		wantDobError(t, "stranger", resp, e, http.StatusUnauthorized, "UNAUTHORIZED", "signature does not match the address")
		resp, body := dobVerify(t, base, key.Address(), key.Sign(message), "stellar")
		dobData(t, "the wallet after a stranger", resp, body, http.StatusOK)
	})
	t.Run("someone asks for a nonce for the wallet in between", func(t *testing.T) {
		mine := dobNonce(t, base, key.Address())["message"].(string)
		clock.Advance(time.Second)                                     // so that theirs is the newest, tried first
		theirs := dobNonce(t, base, key.Address())["message"].(string) // the interloper's
		resp, body := dobVerify(t, base, key.Address(), key.Sign(mine), "stellar")
		dobData(t, "the owner's older challenge", resp, body, http.StatusOK)
		resp, body = dobVerify(t, base, key.Address(), key.Sign(theirs), "stellar") // the wallet's own signature
		dobData(t, "the newer one", resp, body, http.StatusOK)
	})
	t.Run("another client's challenge", func(t *testing.T) {
		message := dobNonce(t, otherBase, key.Address())["message"].(string)
		resp, e := dobVerify(t, base, key.Address(), key.Sign(message), "stellar")
		wantDobError(t, "other client", resp, e, http.StatusUnauthorized, "UNAUTHORIZED", "")
	})
	t.Run("expired", func(t *testing.T) {
		message := dobNonce(t, base, key.Address())["message"].(string)
		clock.Advance(siwe.DefaultLifetime + time.Second)
		resp, e := dobVerify(t, base, key.Address(), key.Sign(message), "stellar")
		wantDobError(t, "expired", resp, e, http.StatusUnauthorized, "UNAUTHORIZED", "")
	})
	t.Run("routes", func(t *testing.T) {
		for _, tc := range []struct{ method, path, code string }{
			{"GET", "/api/agent/auth/nonce", "METHOD_NOT_ALLOWED"},
			{"PUT", "/api/agent/auth/keys", "METHOD_NOT_ALLOWED"},
			{"GET", "/api/agent/auth/challenge/" + key.Address(), "NOT_FOUND"},
			{"POST", "/api/agent/v1/auth/nonce", "NOT_FOUND"},
		} {
			resp, e := curlDo(t, tc.method, base+tc.path, "")
			status := map[string]int{"METHOD_NOT_ALLOWED": 405, "NOT_FOUND": 404}[tc.code]
			wantDobError(t, tc.method+" "+tc.path, resp, e, status, tc.code, "")
		}
	})
}

// TestDobProfileConcurrentVerify: of 20 submissions of one signature over
// the wallet's open challenge at once, exactly one gets a token.
func TestDobProfileConcurrentVerify(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob"})
	base := ts.Issuer + "/compat/" + c.ID
	key := stellartest.New(t)
	body := pyDumps("wallet_address", key.Address(), "signature", key.Sign(dobNonce(t, base, key.Address())["message"].(string)), "chain", "stellar")
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for range cap(statuses) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := apiClient.Post(base+"/api/agent/auth/verify", "application/json", strings.NewReader(body))
			if err != nil {
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 1 || count[http.StatusUnauthorized] != cap(statuses)-1 {
		t.Fatalf("statuses %v, want one 200 and the rest 401", count)
	}
}

func TestDobProfileRateLimits(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 100, PerAddress: 2, Window: time.Minute}
	})
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "dob"})
	base := ts.Issuer + "/compat/" + c.ID
	key := stellartest.New(t)
	dobNonce(t, base, key.Address())
	dobNonce(t, base, key.Address())
	resp, e := curlDo(t, "POST", base+"/api/agent/auth/nonce", `{"wallet_address": "`+key.Address()+`"}`, "Content-Type", "application/json")
	wantDobError(t, "third nonce for one wallet", resp, e, http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Retry after")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	dobNonce(t, base, stellartest.New(t).Address())
}
