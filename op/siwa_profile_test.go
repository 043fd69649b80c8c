package op_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	siwego "github.com/spruceid/siwe-go"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// The siwa wire profile: the SIWA server's documented flow (its curl
// walkthrough: nonce → sign with @buildersgarden/siwa → verify →
// /api/protected → /api/agent-action) against <issuer>/compat/<client_id>,
// with only the base URL changed.

// docsRegistry is the registry of the SIWA server's walkthrough (Base Sepolia).
const docsRegistry = "eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e"

// siwaCall sends a JSON request, with a Bearer token when one is given, and
// returns the answer and its decoded body.
func siwaCall(t *testing.T, method, u, bearer string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, u, r)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

// wantSIWAError checks the profile's error envelope.
func wantSIWAError(t *testing.T, what string, resp *http.Response, body map[string]any, status int, words string) {
	t.Helper()
	if resp.StatusCode != status || body["success"] != false || !strings.Contains(body["error"].(string), words) {
		t.Fatalf("%s: %d %v, want %d {success: false, error: …%s…}", what, resp.StatusCode, body, status, words)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%s: no open CORS on the profile's answer", what)
	}
}

// siwaSign builds and signs the message of the walkthrough's step 2 for a
// nonce answer, with the base URL's host and verify URL, as the docs do.
func siwaSign(t *testing.T, agent *wallet, base string, id int64, registry string, n map[string]any) (string, string) {
	t.Helper()
	m := siwaText{
		Domain: mustURL(t, base).Host, Address: agent.Address(), Statement: "Authenticate as a registered ERC-8004 agent.",
		URI: base + "/api/siwa/verify", AgentID: id, Registry: registry, ChainID: int64(n["chainId"].(float64)),
		Nonce: n["nonce"].(string), IssuedAt: n["issuedAt"].(string), Expires: n["expirationTime"].(string),
	}
	return m.String(), agent.Sign(t, m.String())
}

func TestSIWAProfileDocumentedFlow(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.ChainIDs = []int64{1, 84532} })
	// Confidential, yet its profile takes no secret (SPEC "Wire profiles").
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "siwa", AgentRegistries: []string{docsRegistry}, AgentOffline: true})
	base := ts.Issuer + "/compat/" + c.ID
	agent := newWallet(t)

	// Step 1: request a nonce.
	resp, n := siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": agent.Address(), "agentId": 42, "agentRegistry": docsRegistry})
	if resp.StatusCode != http.StatusOK || n["domain"] != mustURL(t, ts.Issuer).Host || n["uri"] != base+"/api/siwa/verify" ||
		n["chainId"] != float64(84532) || len(n["nonce"].(string)) < 16 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("nonce: %d %v", resp.StatusCode, n)
	}
	issued, err1 := time.Parse(time.RFC3339, n["issuedAt"].(string))
	expires, err2 := time.Parse(time.RFC3339, n["expirationTime"].(string))
	if err1 != nil || err2 != nil || expires.Sub(issued) != siwe.DefaultLifetime || !strings.HasSuffix(n["issuedAt"].(string), "Z") {
		t.Fatalf("nonce times %v %v", n["issuedAt"], n["expirationTime"])
	}

	// Step 2: build and sign the SIWA message; step 3: verify it.
	msg, sig := siwaSign(t, agent, base, 42, docsRegistry, n)
	resp, v := siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": msg, "signature": strings.TrimPrefix(sig, "0x")})
	if resp.StatusCode != http.StatusOK || v["success"] != true || v["address"] != agent.Address() || v["agentId"] != float64(42) ||
		v["agentRegistry"] != docsRegistry || v["verified"] != "offline" {
		t.Fatalf("verify: %d %v", resp.StatusCode, v)
	}
	token := v["token"].(string)
	claims := verifyAgainstKeys(t, ts, token)
	exp := time.Unix(int64(claims["exp"].(float64)), 0)
	if claims["aud"] != c.ID && !(func() bool { a, _ := claims["aud"].([]any); return len(a) == 1 && a[0] == c.ID })() {
		t.Fatalf("aud = %v, want %s", claims["aud"], c.ID)
	}
	if lifetime := exp.Sub(time.Unix(int64(claims["iat"].(float64)), 0)); lifetime != time.Hour || v["expiresAt"] != exp.UTC().Format("2006-01-02T15:04:05.000Z") {
		t.Fatalf("token lives %s, expiresAt %v; want 1h and %s", lifetime, v["expiresAt"], exp)
	}
	if claims["sub"] != "eip155:84532:"+agent.Address() || claims["agent_id"] != float64(42) || claims["agent_verified"] != "offline" {
		t.Fatalf("token claims %v", claims)
	}

	// Step 4: the protected endpoint; step 5: an agent action.
	resp, p := siwaCall(t, "GET", base+"/api/protected", token, nil)
	if resp.StatusCode != http.StatusOK || p["message"] != "Hello Agent #42!" || p["address"] != agent.Address() || p["agentId"] != float64(42) || p["timestamp"] == nil {
		t.Fatalf("protected: %d %v", resp.StatusCode, p)
	}
	action := map[string]any{"action": "ping", "data": map[string]any{"hello": "world"}}
	resp, a := siwaCall(t, "POST", base+"/api/agent-action", token, action)
	got, _ := json.Marshal(a["received"])
	want, _ := json.Marshal(action)
	agentOf, _ := a["agent"].(map[string]any)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) || a["processedBy"] != "siwa-server" ||
		agentOf["address"] != agent.Address() || agentOf["agentId"] != float64(42) || a["timestamp"] == nil {
		t.Fatalf("agent action: %d %v", resp.StatusCode, a)
	}

	// The signed message again: the nonce is spent, refused like a bad signature.
	resp, e := siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": msg, "signature": sig})
	wantSIWAError(t, "replay", resp, e, http.StatusUnauthorized, "Invalid or consumed nonce")
}

// verifyAgainstKeys verifies a token's signature with the published JWKS,
// as a resource server does, and returns its claims.
func verifyAgainstKeys(t *testing.T, ts *testServer, token string) map[string]any {
	t.Helper()
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), apiClient), ts.Issuer+"/keys")
	payload, err := keys.VerifySignature(context.Background(), token)
	if err != nil {
		t.Fatalf("the token does not verify against /keys: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != ts.Issuer {
		t.Fatalf("iss = %v", claims["iss"])
	}
	return claims
}

func TestSIWAProfileRefuses(t *testing.T) {
	ts := newTestServer(t, nil, func(c *op.Config) { c.ChainIDs = []int64{1, 84532} })
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "siwa", AgentRegistries: []string{docsRegistry}, AgentOffline: true})
	other, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "siwa", AgentRegistries: []string{docsRegistry}, AgentOffline: true})
	base := ts.Issuer + "/compat/" + c.ID
	agent, stranger := newWallet(t), newWallet(t)
	nonce := func() map[string]any {
		_, n := siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": agent.Address(), "agentId": "42", "agentRegistry": docsRegistry})
		return n
	}

	resp, e := siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"agentId": 42})
	wantSIWAError(t, "no address", resp, e, http.StatusBadRequest, "Missing address")
	resp, e = siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": agent.Address(), "agentId": 42})
	wantSIWAError(t, "agent ID without registry", resp, e, http.StatusBadRequest, "together")
	resp, e = siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": agent.Address(), "agentId": 42, "agentRegistry": "eip155:84532:0x8004000000000000000000000000000000000001"})
	wantSIWAError(t, "a registry the client does not accept", resp, e, http.StatusUnauthorized, "Agent registry not allowed")
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": "x"})
	wantSIWAError(t, "no signature", resp, e, http.StatusBadRequest, "Missing message or signature")

	n := nonce()
	msg, _ := siwaSign(t, agent, base, 42, docsRegistry, n)
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": msg, "signature": stranger.Sign(t, msg)})
	wantSIWAError(t, "another key's signature", resp, e, http.StatusUnauthorized, "Invalid signature")
	bad := strings.Replace(msg, mustURL(t, base).Host, "evil.example", 1)
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": bad, "signature": agent.Sign(t, bad)})
	wantSIWAError(t, "another domain", resp, e, http.StatusUnauthorized, "Domain mismatch")
	issuerURI := strings.Replace(msg, "URI: "+base+"/api/siwa/verify", "URI: "+ts.Issuer, 1)
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": issuerURI, "signature": agent.Sign(t, issuerURI)})
	wantSIWAError(t, "the issuer's URI, not the profile's", resp, e, http.StatusUnauthorized, "Domain mismatch")
	otherBase := ts.Issuer + "/compat/" + other.ID
	resp, e = siwaCall(t, "POST", otherBase+"/api/siwa/verify", "", map[string]any{"message": msg, "signature": agent.Sign(t, msg)})
	wantSIWAError(t, "another client's nonce", resp, e, http.StatusUnauthorized, "Invalid or consumed nonce")

	// An EIP-4361 message, however valid, is not a SIWA message.
	n = nonce()
	m, err := siwego.InitMessage(mustURL(t, base).Host, agent.Address(), base+"/api/siwa/verify", n["nonce"].(string),
		map[string]any{"chainId": 84532, "issuedAt": n["issuedAt"], "expirationTime": n["expirationTime"]})
	if err != nil {
		t.Fatal(err)
	}
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": m.String(), "signature": agent.Sign(t, m.String())})
	wantSIWAError(t, "EIP-4361", resp, e, http.StatusBadRequest, "Invalid SIWA message")
	mangled := strings.Replace(msg, "Agent account", "Ethereum account", 1)
	resp, e = siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": mangled, "signature": agent.Sign(t, mangled)})
	wantSIWAError(t, "a SIWA body under an EIP-4361 header", resp, e, http.StatusBadRequest, "Invalid SIWA message")

	// Bearer: none, garbage, or a token of another client: 401 Unauthorized.
	_, n2 := siwaCall(t, "POST", otherBase+"/api/siwa/nonce", "", map[string]any{"address": agent.Address()})
	m2, s2 := siwaSign(t, agent, otherBase, 42, docsRegistry, n2)
	_, v := siwaCall(t, "POST", otherBase+"/api/siwa/verify", "", map[string]any{"message": m2, "signature": s2})
	for name, bearer := range map[string]string{"none": "", "garbage": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "another client's": v["token"].(string)} {
		for _, call := range [][2]string{{"GET", "/api/protected"}, {"POST", "/api/agent-action"}} {
			resp, body := siwaCall(t, call[0], base+call[1], bearer, map[string]any{"action": "ping"})
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "Unauthorized" || len(body) != 1 {
				t.Fatalf("%s token at %s: %d %v", name, call[1], resp.StatusCode, body)
			}
		}
	}

	// CORS is open on the profile, and only there.
	req, _ := http.NewRequest(http.MethodOptions, base+"/api/siwa/verify", nil)
	req.Header.Set("Origin", "https://anywhere.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err = apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = postJSON(t, apiClient, ts.Issuer+"/auth/nonce", map[string]any{"address": agent.Address(), "client_id": c.ID})
	if resp.Header.Get("Access-Control-Allow-Origin") == "*" {
		t.Fatal("open CORS leaked beyond the profile")
	}
}

// TestSIWAProfileOnChain: with an RPC endpoint for the registry's chain,
// the profile checks ownership at the nonce and at verification, and says
// "onchain"; a node that is down is 503.
func TestSIWAProfileOnChain(t *testing.T) {
	sim := chaintest.New(t)
	registry := chaintest.NewAgentRegistry(t, sim)
	reg := siwe.Registry{ChainID: sim.ChainID(), Address: registry.Address}.String()
	owner, stranger := newWallet(t), newWallet(t)
	id := registry.Register(t, walletAddr(owner), registrationURI)
	for name, caller := range map[string]siwe.ContractCaller{"live": sim.Client(), "dead": chaintest.DeadCaller{}} {
		t.Run(name, func(t *testing.T) {
			callers := map[int64]siwe.ContractCaller{simChain: caller}
			ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "", func(d *op.Deps) {
				d.Signatures = siwe.NewContractChecker(callers, time.Second)
				d.Agents = agents.New(agents.Config{Reader: chain.NewAgentRegistries(callers, time.Second)})
			}, func(c *op.Config) { c.ChainIDs = []int64{1, simChain} })
			c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}, Profile: "siwa", AgentRegistries: []string{reg}})
			base := ts.Issuer + "/compat/" + c.ID
			resp, n := siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": owner.Address(), "agentId": id, "agentRegistry": reg})
			if name == "dead" {
				wantSIWAError(t, "a dead node", resp, n, http.StatusServiceUnavailable, "did not answer")
				return
			}
			if resp.StatusCode != http.StatusOK || n["chainId"] != float64(simChain) {
				t.Fatalf("nonce: %d %v", resp.StatusCode, n)
			}
			resp, e := siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": stranger.Address(), "agentId": id, "agentRegistry": reg})
			wantSIWAError(t, "not the owner", resp, e, http.StatusUnauthorized, "Signer is not the owner of this agent NFT")
			resp, e = siwaCall(t, "POST", base+"/api/siwa/nonce", "", map[string]any{"address": owner.Address(), "agentId": id + 9, "agentRegistry": reg})
			wantSIWAError(t, "not registered", resp, e, http.StatusUnauthorized, "Agent is not registered")
			msg, sig := siwaSign(t, owner, base, id, reg, n)
			resp, v := siwaCall(t, "POST", base+"/api/siwa/verify", "", map[string]any{"message": msg, "signature": sig})
			if resp.StatusCode != http.StatusOK || v["verified"] != "onchain" || v["agentId"] != float64(id) {
				t.Fatalf("verify: %d %v", resp.StatusCode, v)
			}
		})
	}
}
