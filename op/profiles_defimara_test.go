package op_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// The defimara wire profile: the sign-in of DeFiMara's agent API
// (defimara.pages.dev/doc/api-agent-auth) as its Python agents make it,
//
//	r = requests.get(f"{BASE}/auth/challenge", params={"address": acct.address})
//	challenge = r.json()["challenge"]
//	signed = Account.sign_message(encode_defunct(text=challenge), private_key=KEY)
//	r = requests.post(f"{BASE}/auth/verify", json={"address": acct.address,
//	    "challenge": challenge, "signature": signed.signature.hex()})
//	token = r.json()["access_token"]
//
// replayed byte for byte against <issuer>/compat/<client_id>: only BASE
// changes.

// defimaraDo sends what python-requests sends: its User-Agent and Accept,
// and a json= body as json.dumps wrote it.
func defimaraDo(t *testing.T, method, u, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", "python-requests/2.32.3")
	req.Header.Set("Accept", "*/*")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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

// pyDumps is Python's json.dumps of a dict of strings, in order: ", " and
// ": " between items, every character outside printable ASCII escaped.
func pyDumps(kv ...string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyString(kv[i]) + ": " + pyString(kv[i+1]))
	}
	return b.String() + "}"
}

// pyShort are the two-character escapes json.dumps writes.
var pyShort = map[rune]string{'\n': `\n`, '\r': `\r`, '\t': `\t`, '\b': `\b`, '\f': `\f`}

func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case pyShort[r] != "":
			b.WriteString(pyShort[r])
		case r < 0x20 || r > 0x7e && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	return b.String() + `"`
}

// defimaraHex is web3.py's signed.signature.hex(): EIP-191 personal_sign,
// v of 27 or 28, hex without 0x.
func defimaraHex(t *testing.T, w *wallet, message string) string {
	return strings.TrimPrefix(w.Sign(t, message), "0x")
}

// defimaraChallenge is the agent's first request.
func defimaraChallenge(t *testing.T, base string, w *wallet) string {
	t.Helper()
	resp, body := defimaraDo(t, "GET", base+"/auth/challenge?address="+w.Address(), "")
	challenge, _ := body["challenge"].(string)
	if resp.StatusCode != http.StatusOK || len(body) != 1 || challenge == "" {
		t.Fatalf("challenge: %d %v", resp.StatusCode, body)
	}
	return challenge
}

// defimaraVerify is the agent's second request.
func defimaraVerify(t *testing.T, base, address, challenge, signature string) (*http.Response, map[string]any) {
	t.Helper()
	return defimaraDo(t, "POST", base+"/auth/verify", pyDumps("address", address, "challenge", challenge, "signature", signature))
}

// wantDefimaraError checks DeFiMara's error envelope: {"error": "…"} alone.
func wantDefimaraError(t *testing.T, what string, resp *http.Response, body map[string]any, status int, words string) {
	t.Helper()
	text, _ := body["error"].(string)
	if resp.StatusCode != status || len(body) != 1 || !strings.Contains(text, words) {
		t.Fatalf("%s: %d %v, want %d {\"error\": …%s…}", what, resp.StatusCode, body, status, words)
	}
}

// profileToken verifies an access token as a resource server with
// coreos/go-oidc does: signed by a key of <issuer>/keys, from the issuer,
// for the client, unexpired at now.
func profileToken(t *testing.T, ts *testServer, clientID, token string, now func() time.Time) (*oidc.IDToken, map[string]any) {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), apiClient)
	keys := oidc.NewRemoteKeySet(ctx, ts.Issuer+"/keys")
	v := oidc.NewVerifier(ts.Issuer, keys, &oidc.Config{ClientID: clientID, Now: now})
	tok, err := v.Verify(ctx, token)
	if err != nil {
		t.Fatalf("the token does not verify against %s/keys for %s: %v", ts.Issuer, clientID, err)
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return tok, claims
}

func TestDefimaraProfileDocumentedFlow(t *testing.T) {
	ts := newTestServer(t, nil)
	// Confidential, yet its profile takes no secret (SPEC "Wire profiles").
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
	base := ts.Issuer + "/compat/" + c.ID
	agent := newWallet(t)

	challenge := defimaraChallenge(t, base, agent)
	head := mustURL(t, ts.Issuer).Host + " wants you to sign in with your Ethereum account:\n" + agent.Address() + "\n"
	if !strings.HasPrefix(challenge, head) || !strings.Contains(challenge, "\nURI: "+ts.Issuer+"\n") || !strings.Contains(challenge, "\nChain ID: 1\n") {
		t.Fatalf("the challenge is not Signet's EIP-4361 message for the agent:\n%s", challenge)
	}

	sig := defimaraHex(t, agent, challenge)
	resp, tok := defimaraVerify(t, base, agent.Address(), challenge, sig)
	expiresIn, _ := tok["expires_in"].(float64)
	if resp.StatusCode != http.StatusOK || len(tok) != 3 || tok["token_type"] != "Bearer" || expiresIn <= 24*3600-60 || expiresIn > 24*3600 {
		t.Fatalf("verify: %d %v", resp.StatusCode, tok)
	}
	idt, claims := profileToken(t, ts, c.ID, tok["access_token"].(string), time.Now)
	if life := idt.Expiry.Sub(idt.IssuedAt); life != 24*time.Hour {
		t.Fatalf("the token lives %s, want the profile's 24h", life)
	}
	if idt.Subject != "eip155:1:"+agent.Address() || claims["ethereum_address"] != agent.Address() || len(idt.Audience) != 1 {
		t.Fatalf("token claims %v", claims)
	}

	// The same request again: the challenge is spent.
	resp, e := defimaraVerify(t, base, agent.Address(), challenge, sig)
	wantDefimaraError(t, "replay", resp, e, http.StatusUnauthorized, "already used")
}

func TestDefimaraProfileRefuses(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
	base, otherBase := ts.Issuer+"/compat/"+c.ID, ts.Issuer+"/compat/"+other.ID
	agent, stranger := newWallet(t), newWallet(t)

	t.Run("malformed", func(t *testing.T) {
		for _, path := range []string{"/auth/challenge", "/auth/challenge?address=", "/auth/challenge?address=0x1234"} {
			resp, e := defimaraDo(t, "GET", base+path, "")
			wantDefimaraError(t, path, resp, e, http.StatusBadRequest, "address")
		}
		ch := defimaraChallenge(t, base, agent)
		sig := defimaraHex(t, agent, ch)
		for name, body := range map[string]string{
			"not JSON":        "address=" + agent.Address(),
			"no signature":    pyDumps("address", agent.Address(), "challenge", ch),
			"no address":      pyDumps("challenge", ch, "signature", sig),
			"bad address":     pyDumps("address", "0xabc", "challenge", ch, "signature", sig),
			"not a signature": pyDumps("address", agent.Address(), "challenge", ch, "signature", "signature"),
		} {
			resp, e := defimaraDo(t, "POST", base+"/auth/verify", body)
			wantDefimaraError(t, name, resp, e, http.StatusBadRequest, "")
		}
		// None of them spent the challenge.
		if resp, tok := defimaraVerify(t, base, agent.Address(), ch, sig); resp.StatusCode != http.StatusOK {
			t.Fatalf("after malformed requests: %d %v", resp.StatusCode, tok)
		}
	})
	t.Run("another key's signature", func(t *testing.T) {
		ch := defimaraChallenge(t, base, agent)
		resp, e := defimaraVerify(t, base, agent.Address(), ch, defimaraHex(t, stranger, ch))
		wantDefimaraError(t, "stranger", resp, e, http.StatusUnauthorized, "signature does not match")
		resp, e = defimaraVerify(t, base, agent.Address(), ch, strings.Repeat("ab", 32))
		wantDefimaraError(t, "32 bytes", resp, e, http.StatusUnauthorized, "signature")
	})
	t.Run("another address", func(t *testing.T) {
		ch := defimaraChallenge(t, base, agent)
		resp, e := defimaraVerify(t, base, stranger.Address(), ch, defimaraHex(t, agent, ch))
		wantDefimaraError(t, "the agent's signature", resp, e, http.StatusUnauthorized, "address")
		resp, e = defimaraVerify(t, base, stranger.Address(), ch, defimaraHex(t, stranger, ch))
		wantDefimaraError(t, "the named address's signature", resp, e, http.StatusUnauthorized, "address")
	})
	t.Run("another client's challenge", func(t *testing.T) {
		ch := defimaraChallenge(t, otherBase, agent)
		resp, e := defimaraVerify(t, base, agent.Address(), ch, defimaraHex(t, agent, ch))
		wantDefimaraError(t, "other client", resp, e, http.StatusUnauthorized, "different client")
	})
	t.Run("not Signet's challenge", func(t *testing.T) {
		ch := defimaraChallenge(t, base, agent)
		forged := ch[:strings.Index(ch, "Nonce: ")] + "Nonce: 0000000000forgedforgedforged" + ch[strings.Index(ch, "\nIssued At"):]
		resp, e := defimaraVerify(t, base, agent.Address(), forged, defimaraHex(t, agent, forged))
		wantDefimaraError(t, "unknown nonce", resp, e, http.StatusUnauthorized, "nonce")
		resp, e = defimaraVerify(t, base, agent.Address(), "please sign", defimaraHex(t, agent, "please sign"))
		wantDefimaraError(t, "no EIP-4361 text", resp, e, http.StatusUnauthorized, "")
	})
	t.Run("expired", func(t *testing.T) {
		ch := defimaraChallenge(t, base, agent)
		clock.Advance(siwe.DefaultLifetime + time.Second)
		resp, e := defimaraVerify(t, base, agent.Address(), ch, defimaraHex(t, agent, ch))
		wantDefimaraError(t, "expired", resp, e, http.StatusUnauthorized, "")
	})
}

// TestDefimaraProfileConcurrentVerify: of 20 submissions of one signed
// challenge at once, exactly one gets a token; the others are 401.
func TestDefimaraProfileConcurrentVerify(t *testing.T) {
	ts := newTestServer(t, nil)
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
	base := ts.Issuer + "/compat/" + c.ID
	agent := newWallet(t)
	ch := defimaraChallenge(t, base, agent)
	body := pyDumps("address", agent.Address(), "challenge", ch, "signature", defimaraHex(t, agent, ch))
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

func TestDefimaraProfileRateLimits(t *testing.T) {
	clock := clocktest.New(time.Now())
	ts := newTestServer(t, clock, func(c *op.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 4, PerAddress: 2, Window: time.Minute}
	})
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
	base := ts.Issuer + "/compat/" + c.ID
	agent := newWallet(t)
	defimaraChallenge(t, base, agent)
	defimaraChallenge(t, base, agent)
	resp, e := defimaraDo(t, "GET", base+"/auth/challenge?address="+agent.Address(), "")
	wantDefimaraError(t, "third challenge for one address", resp, e, http.StatusTooManyRequests, "Too many requests")
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	defimaraChallenge(t, base, newWallet(t)) // the caller's fourth request
	resp, e = defimaraVerify(t, base, agent.Address(), "x", "00")
	wantDefimaraError(t, "fifth request from the caller", resp, e, http.StatusTooManyRequests, "Too many requests")
	clock.Advance(time.Minute)
	defimaraChallenge(t, base, agent)
}

// TestDefimaraProfileContractWallet: an ERC-1271 wallet signs in through
// the profile with its owner's signature, read on the chain's RPC; another
// key is 401; with the node down the answer is 503, without its error text.
func TestDefimaraProfileContractWallet(t *testing.T) {
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
			c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "defimara"})
			base := ts.Issuer + "/compat/" + c.ID
			resp, body := defimaraDo(t, "GET", base+"/auth/challenge?address="+account.Hex(), "")
			ch, _ := body["challenge"].(string)
			if resp.StatusCode != http.StatusOK || !strings.Contains(ch, "\nChain ID: 1337\n") {
				t.Fatalf("challenge: %d %v", resp.StatusCode, body)
			}
			if name == "dead" {
				resp, e := defimaraVerify(t, base, account.Hex(), ch, defimaraHex(t, owner, ch))
				wantDefimaraError(t, "node down", resp, e, http.StatusServiceUnavailable, "Temporarily unavailable")
				if strings.Contains(e["error"].(string), "dial tcp") {
					t.Fatalf("the node's error text leaked: %v", e)
				}
				return
			}
			resp, e := defimaraVerify(t, base, account.Hex(), ch, defimaraHex(t, stranger, ch))
			wantDefimaraError(t, "another key", resp, e, http.StatusUnauthorized, "rejected")
			resp, tok := defimaraVerify(t, base, account.Hex(), ch, defimaraHex(t, owner, ch))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("owner: %d %v", resp.StatusCode, tok)
			}
			if idt, _ := profileToken(t, ts, c.ID, tok["access_token"].(string), time.Now); idt.Subject != "eip155:1337:"+account.Hex() {
				t.Fatalf("sub = %s", idt.Subject)
			}
		})
	}
}
