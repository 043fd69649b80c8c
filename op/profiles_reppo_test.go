package op_test

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// The reppo wire profile: Reppo's wallet sign-in (Reppo-Labs/docs
// api/agent/auth.mdx) as its CLI makes it (Reppo-Labs/reppo-cli
// src/api/platform.ts, with viem):
//
//	fetch(`${baseUrl}/auth/nonce`, {method: 'POST', headers: {'Content-Type': 'application/json'},
//	    body: JSON.stringify({ walletAddress: account.address })})
//	const signature = await account.signMessage({ message: nonceData.message })
//	fetch(`${baseUrl}/auth/verify`, {method: 'POST', headers: {'Content-Type': 'application/json'},
//	    body: JSON.stringify({ walletAddress: account.address, signature, nonce: nonceData.nonce })})
//
// replayed byte for byte against <issuer>/compat/<client_id>: only baseUrl
// changes.

// reppoPost sends what the CLI's fetch sends: a JSON.stringify body.
func reppoPost(t *testing.T, u, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("User-Agent", "node")
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("POST %s: Content-Type %q", u, ct)
	}
	return resp, decodeBody(t, resp)
}

// jsStringify is JSON.stringify of an object of strings, in order, for the
// printable ASCII the CLI sends (addresses, hex, the nonce): no spaces, only
// " and \ escaped.
func jsStringify(kv ...string) string {
	parts := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, jsString(kv[i])+":"+jsString(kv[i+1]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func jsString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// reppoNonce is the CLI's first request; it returns the nonce and message.
func reppoNonce(t *testing.T, base string, w *wallet) (string, string) {
	t.Helper()
	resp, body := reppoPost(t, base+"/auth/nonce", jsStringify("walletAddress", w.Address()))
	nonce, _ := body["nonce"].(string)
	message, _ := body["message"].(string)
	if resp.StatusCode != http.StatusOK || len(body) != 2 || nonce == "" || message == "" {
		t.Fatalf("nonce: %d %v", resp.StatusCode, body)
	}
	return nonce, message
}

// reppoVerify is the CLI's second request.
func reppoVerify(t *testing.T, base, address, signature, nonce string) (*http.Response, map[string]any) {
	t.Helper()
	return reppoPost(t, base+"/auth/verify", jsStringify("walletAddress", address, "signature", signature, "nonce", nonce))
}

// wantReppoError checks Reppo's error envelope: {"error": "…"} alone, and
// for 401 exactly {"error": "Unauthorized"}.
func wantReppoError(t *testing.T, what string, resp *http.Response, body map[string]any, status int) {
	t.Helper()
	text, _ := body["error"].(string)
	if resp.StatusCode != status || len(body) != 1 || text == "" || (status == http.StatusUnauthorized && text != "Unauthorized") {
		t.Fatalf("%s: %d %v, want %d {\"error\": …}", what, resp.StatusCode, body, status)
	}
}

func TestReppoProfileDocumentedFlow(t *testing.T) {
	ts := newTestServer(t, nil)
	// Confidential, yet its profile takes no secret (SPEC "Wire profiles").
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	base := ts.Issuer + "/compat/" + c.ID
	wallet := newWallet(t)

	nonce, message := reppoNonce(t, base, wallet)
	head := mustURL(t, ts.Issuer).Host + " wants you to sign in with your Ethereum account:\n" + wallet.Address() + "\n"
	if !strings.HasPrefix(message, head) || !strings.Contains(message, "\nURI: "+ts.Issuer+"\n") || strings.Contains(message, nonce) {
		t.Fatalf("the message is not Signet's EIP-4361 challenge for the wallet, or shows the handle:\n%s", message)
	}

	sig := wallet.Sign(t, message) // viem's signMessage: 0x, v of 27 or 28
	resp, v := reppoVerify(t, base, wallet.Address(), sig, nonce)
	if resp.StatusCode != http.StatusOK || len(v) != 2 || v["walletAddress"] != strings.ToLower(wallet.Address()) {
		t.Fatalf("verify: %d %v", resp.StatusCode, v)
	}
	idt, claims := profileToken(t, ts, c.ID, v["token"].(string), time.Now)
	if life := idt.Expiry.Sub(idt.IssuedAt); life != 24*time.Hour {
		t.Fatalf("the token lives %s, want the profile's 24h", life)
	}
	if idt.Subject != "eip155:1:"+wallet.Address() || claims["ethereum_address"] != wallet.Address() || len(idt.Audience) != 1 {
		t.Fatalf("token claims %v", claims)
	}

	// The same request again: the nonce is spent.
	resp, e := reppoVerify(t, base, wallet.Address(), sig, nonce)
	wantReppoError(t, "replay", resp, e, http.StatusUnauthorized)

	// The docs' cast variant signs the same way; a signature without 0x,
	// and an address in lowercase, are taken too.
	nonce, message = reppoNonce(t, base, wallet)
	resp, v = reppoVerify(t, base, strings.ToLower(wallet.Address()), strings.TrimPrefix(wallet.Sign(t, message), "0x"), nonce)
	if resp.StatusCode != http.StatusOK || v["walletAddress"] != strings.ToLower(wallet.Address()) {
		t.Fatalf("verify without 0x: %d %v", resp.StatusCode, v)
	}
}

func TestReppoProfileRefuses(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	base, otherBase := ts.Issuer+"/compat/"+c.ID, ts.Issuer+"/compat/"+other.ID
	wallet, stranger := newWallet(t), newWallet(t)

	t.Run("malformed", func(t *testing.T) {
		for name, body := range map[string]string{
			"no walletAddress": `{}`,
			"no 0x":            jsStringify("walletAddress", strings.TrimPrefix(wallet.Address(), "0x")),
			"short":            jsStringify("walletAddress", "0x1234"),
			"not JSON":         "walletAddress=" + wallet.Address(),
		} {
			resp, e := reppoPost(t, base+"/auth/nonce", body)
			wantReppoError(t, "nonce, "+name, resp, e, http.StatusBadRequest)
		}
		nonce, message := reppoNonce(t, base, wallet)
		sig := wallet.Sign(t, message)
		for name, body := range map[string]string{
			"no nonce":        jsStringify("walletAddress", wallet.Address(), "signature", sig),
			"no signature":    jsStringify("walletAddress", wallet.Address(), "nonce", nonce),
			"bad address":     jsStringify("walletAddress", "0xzz", "signature", sig, "nonce", nonce),
			"not a signature": jsStringify("walletAddress", wallet.Address(), "signature", "0xnothex", "nonce", nonce),
			"truncated JSON":  jsStringify("walletAddress", wallet.Address(), "signature", sig, "nonce", nonce)[:40],
		} {
			resp, e := reppoPost(t, base+"/auth/verify", body)
			wantReppoError(t, "verify, "+name, resp, e, http.StatusBadRequest)
		}
		// None of them spent the nonce.
		if resp, v := reppoVerify(t, base, wallet.Address(), sig, nonce); resp.StatusCode != http.StatusOK {
			t.Fatalf("after malformed requests: %d %v", resp.StatusCode, v)
		}
	})
	t.Run("another key's signature", func(t *testing.T) {
		nonce, message := reppoNonce(t, base, wallet)
		resp, e := reppoVerify(t, base, wallet.Address(), stranger.Sign(t, message), nonce)
		wantReppoError(t, "stranger", resp, e, http.StatusUnauthorized)
		// A refused signature does not spend the nonce.
		if resp, v := reppoVerify(t, base, wallet.Address(), wallet.Sign(t, message), nonce); resp.StatusCode != http.StatusOK {
			t.Fatalf("the wallet after a stranger: %d %v", resp.StatusCode, v)
		}
	})
	t.Run("another wallet", func(t *testing.T) {
		nonce, message := reppoNonce(t, base, wallet)
		resp, e := reppoVerify(t, base, stranger.Address(), wallet.Sign(t, message), nonce)
		wantReppoError(t, "the nonce's wallet signed", resp, e, http.StatusUnauthorized)
		resp, e = reppoVerify(t, base, stranger.Address(), stranger.Sign(t, message), nonce)
		wantReppoError(t, "the named wallet signed", resp, e, http.StatusUnauthorized)
	})
	t.Run("another client's nonce", func(t *testing.T) {
		nonce, message := reppoNonce(t, otherBase, wallet)
		resp, e := reppoVerify(t, base, wallet.Address(), wallet.Sign(t, message), nonce)
		wantReppoError(t, "other client", resp, e, http.StatusUnauthorized)
	})
	t.Run("unknown nonce", func(t *testing.T) {
		_, message := reppoNonce(t, base, wallet)
		for _, nonce := range []string{"a1b2c3d4-e5f6-7890-abcd-ef1234567890", strings.Repeat("n", 4096)} {
			resp, e := reppoVerify(t, base, wallet.Address(), wallet.Sign(t, message), nonce)
			wantReppoError(t, "unknown nonce", resp, e, http.StatusUnauthorized)
		}
	})
	t.Run("expired", func(t *testing.T) {
		nonce, message := reppoNonce(t, base, wallet)
		clock.Advance(siwe.DefaultLifetime + time.Second)
		resp, e := reppoVerify(t, base, wallet.Address(), wallet.Sign(t, message), nonce)
		wantReppoError(t, "expired", resp, e, http.StatusUnauthorized)
	})
}

// TestReppoProfileConcurrentVerify: of 20 submissions of one signed nonce
// at once, exactly one gets a token; the others are 401.
func TestReppoProfileConcurrentVerify(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	base := ts.Issuer + "/compat/" + c.ID
	wallet := newWallet(t)
	nonce, message := reppoNonce(t, base, wallet)
	body := jsStringify("walletAddress", wallet.Address(), "signature", wallet.Sign(t, message), "nonce", nonce)
	statuses := make(chan int, 20)
	var wg sync.WaitGroup
	for range cap(statuses) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := apiClient.Post(base+"/auth/verify", "application/json", strings.NewReader(body))
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

func TestReppoProfileRateLimits(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 4, PerAddress: 2, Window: time.Minute}
	})
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
	base := ts.Issuer + "/compat/" + c.ID
	wallet := newWallet(t)
	reppoNonce(t, base, wallet)
	reppoNonce(t, base, wallet)
	resp, e := reppoPost(t, base+"/auth/nonce", jsStringify("walletAddress", wallet.Address()))
	wantReppoError(t, "third nonce for one wallet", resp, e, http.StatusTooManyRequests)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	reppoNonce(t, base, newWallet(t)) // the caller's fourth request
	resp, e = reppoVerify(t, base, wallet.Address(), "0x00", "n")
	wantReppoError(t, "fifth request from the caller", resp, e, http.StatusTooManyRequests)
	clock.Advance(time.Minute)
	reppoNonce(t, base, wallet)
}

// TestReppoProfileContractWallet: an ERC-1271 wallet signs in through the
// profile with its owner's signature, read on the chain's RPC; another key
// is 401; with the node down the answer is 503, without its error text.
func TestReppoProfileContractWallet(t *testing.T) {
	chain := chaintest.New(t)
	owner, stranger := newWallet(t), newWallet(t)
	account := chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "Wallet1271"), []string{"address"}, walletAddr(owner)))
	for name, caller := range map[string]siwe.ContractCaller{"live": chain.Client(), "dead": chaintest.DeadCaller{}} {
		t.Run(name, func(t *testing.T) {
			ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "",
				func(d *op.Deps) {
					d.Signatures = siwe.NewContractChecker(map[int64]siwe.ContractCaller{simChain: caller}, time.Second)
				},
				func(c *op.Config) { c.ChainIDs = []int64{simChain} })
			c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "reppo"})
			base := ts.Issuer + "/compat/" + c.ID
			resp, body := reppoPost(t, base+"/auth/nonce", jsStringify("walletAddress", account.Hex()))
			nonce, _ := body["nonce"].(string)
			message, _ := body["message"].(string)
			if resp.StatusCode != http.StatusOK || !strings.Contains(message, "\nChain ID: 1337\n") {
				t.Fatalf("nonce: %d %v", resp.StatusCode, body)
			}
			if name == "dead" {
				resp, e := reppoVerify(t, base, account.Hex(), owner.Sign(t, message), nonce)
				wantReppoError(t, "node down", resp, e, http.StatusServiceUnavailable)
				if strings.Contains(e["error"].(string), "dial tcp") {
					t.Fatalf("the node's error text leaked: %v", e)
				}
				return
			}
			resp, e := reppoVerify(t, base, account.Hex(), stranger.Sign(t, message), nonce)
			wantReppoError(t, "another key", resp, e, http.StatusUnauthorized)
			resp, v := reppoVerify(t, base, account.Hex(), owner.Sign(t, message), nonce)
			if resp.StatusCode != http.StatusOK || v["walletAddress"] != strings.ToLower(account.Hex()) {
				t.Fatalf("owner: %d %v", resp.StatusCode, v)
			}
			if idt, _ := profileToken(t, ts, c.ID, v["token"].(string), time.Now); idt.Subject != "eip155:1337:"+account.Hex() {
				t.Fatalf("sub = %s", idt.Subject)
			}
		})
	}
}
