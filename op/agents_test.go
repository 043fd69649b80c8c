package op_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// Agent sign-ins (SIWA, SPEC "Agents") on /auth/nonce and /auth/verify,
// with TestAgentRegistry on go-ethereum's simulated chain, or without an
// RPC endpoint for it, or with one that is down.

// siwaText is a SIWA message as @buildersgarden/siwa's buildSIWAMessage
// writes it.
type siwaText struct {
	Domain, Address, Statement, URI string
	AgentID                         int64
	Registry                        string
	ChainID                         int64
	Nonce, IssuedAt, Expires        string
}

func (m siwaText) String() string {
	lines := []string{m.Domain + " wants you to sign in with your Agent account:", m.Address, ""}
	if m.Statement != "" {
		lines = append(lines, m.Statement)
	}
	lines = append(lines, "", "URI: "+m.URI, "Version: 1", "Agent ID: "+strconv.FormatInt(m.AgentID, 10), "Agent Registry: "+m.Registry,
		"Chain ID: "+strconv.FormatInt(m.ChainID, 10), "Nonce: "+m.Nonce, "Issued At: "+m.IssuedAt)
	if m.Expires != "" {
		lines = append(lines, "Expiration Time: "+m.Expires)
	}
	return strings.Join(lines, "\n")
}

// registrationFile is an agent's registration file (ERC-8004), and
// registrationURI a data: URI of it, as agents register them.
const registrationFile = `{"type":"https://eips.ethereum.org/EIPS/eip-8004#registration-v1","name":"Agent Smith",` +
	`"services":[{"name":"A2A","endpoint":"https://agent.example/.well-known/agent-card.json","version":"0.3.0"}]}`

var registrationURI = "data:application/json;base64," + base64.StdEncoding.EncodeToString([]byte(registrationFile))

// agentWorld is Signet on chains 1 and 1337 beside a simulated chain with
// TestAgentRegistry, and a confidential client that accepts the registry's
// agents.
type agentWorld struct {
	ts       *testServer
	chain    *chaintest.Chain
	registry *chaintest.AgentRegistry
	reg      siwe.Registry
	client   *clients.Client
	app      *rp
}

// newAgentWorld reaches chain 1337 through rpc (nil: no RPC endpoint for
// it); params may change the client.
func newAgentWorld(t *testing.T, rpc func(*chaintest.Chain) siwe.ContractCaller, clock *clocktest.Clock, params func(*clients.Params)) *agentWorld {
	t.Helper()
	sim := chaintest.New(t)
	w := &agentWorld{chain: sim, registry: chaintest.NewAgentRegistry(t, sim)}
	w.reg = siwe.Registry{ChainID: sim.ChainID(), Address: w.registry.Address}
	callers := map[int64]siwe.ContractCaller{}
	if rpc != nil {
		callers[sim.ChainID()] = rpc(sim)
	}
	w.ts = newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), clock, "", func(d *op.Deps) {
		d.Signatures = siwe.NewContractChecker(callers, time.Second)
		d.Agents = agents.New(agents.Config{Reader: chain.NewAgentRegistries(callers, time.Second), Files: agents.NewFiles(agents.FilesConfig{})})
	}, func(c *op.Config) { c.ChainIDs = []int64{1, simChain} })
	p := clients.Params{RedirectURIs: []string{testRedirect}, AgentRegistries: []string{w.reg.String()}}
	if params != nil {
		params(&p)
	}
	var secret string
	w.client, secret = w.ts.addClient(t, p)
	w.app = newRP(t, w.ts, w.client.ID, secret, "agent")
	return w
}

func onChain(c *chaintest.Chain) siwe.ContractCaller { return c.Client() }

// nonce asks /auth/nonce for a challenge for address on the simulated
// chain, naming agent id of the world's registry when id ≥ 0.
func (w *agentWorld) nonce(t *testing.T, address string, id int64) (*http.Response, map[string]any) {
	t.Helper()
	body := map[string]any{"address": address, "client_id": w.client.ID, "chain_id": simChain, "scope": "openid agent"}
	if id >= 0 {
		body["agent_id"], body["agent_registry"] = id, w.reg.String()
	}
	return postJSON(t, apiClient, w.ts.Issuer+"/auth/nonce", body)
}

// message is the SIWA message an agent writes for a nonce answer, as
// agent id of the world's registry.
func (w *agentWorld) message(n map[string]any, address string, id int64) siwaText {
	return siwaText{
		Domain: n["domain"].(string), Address: address, Statement: "Authenticate as a registered ERC-8004 agent.",
		URI: n["uri"].(string), AgentID: id, Registry: w.reg.String(), ChainID: int64(n["chain_id"].(float64)),
		Nonce: n["nonce"].(string), IssuedAt: n["issued_at"].(string), Expires: n["expiration_time"].(string),
	}
}

// signIn runs nonce → SIWA message → /auth/verify for signer, as agent id;
// address is the account that signs in (the signer's own when "").
func (w *agentWorld) signIn(t *testing.T, signer *wallet, address string, id int64) (*http.Response, map[string]any) {
	t.Helper()
	if address == "" {
		address = signer.Address()
	}
	resp, n := w.nonce(t, address, -1)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("nonce: %d %v", resp.StatusCode, n)
	}
	msg := w.message(n, address, id).String()
	return verifyJSON(t, w.ts, msg, signer.Sign(t, msg))
}

// wantAgentClaims checks the agent claims of an ID token, access token,
// userinfo or introspection answer.
func wantAgentClaims(t *testing.T, what string, claims map[string]any, account string, id int64, reg siwe.Registry, verified string, registration bool) {
	t.Helper()
	if claims["sub"] != "eip155:1337:"+account || claims["agent_id"] != float64(id) || claims["agent_registry"] != reg.String() ||
		claims["agent_verified"] != verified {
		t.Fatalf("%s: sub %v agent_id %v agent_registry %v agent_verified %v; want %s, %d, %s, %s", what,
			claims["sub"], claims["agent_id"], claims["agent_registry"], claims["agent_verified"], account, id, reg, verified)
	}
	services, _ := claims["agent_services"].([]any)
	if got := claims["agent_name"] == "Agent Smith" && len(services) == 1; got != registration {
		t.Fatalf("%s: agent_name %v agent_services %v; want them: %v", what, claims["agent_name"], claims["agent_services"], registration)
	}
}

// userinfo calls /userinfo with an access token.
func userinfo(t *testing.T, ts *testServer, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, ts.Issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d %s", resp.StatusCode, readAll(t, resp))
	}
	return decodeBody(t, resp)
}

// TestAgentSignsInOnChain: the agent's owner signs in with a SIWA message
// on /auth/verify; the ID token, the access token, userinfo and
// introspection carry the agent, and, with the agent scope, its
// registration file's name and services; sub stays the signer's account.
func TestAgentSignsInOnChain(t *testing.T) {
	w := newAgentWorld(t, onChain, nil, nil)
	owner := newWallet(t)
	id := w.registry.Register(t, walletAddr(owner), registrationURI)

	resp, n := w.nonce(t, owner.Address(), id) // the agent is checked before the nonce is issued
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("nonce: %d %v", resp.StatusCode, n)
	}
	msg := w.message(n, owner.Address(), id).String()
	resp, tok := verifyJSON(t, w.ts, msg, owner.Sign(t, msg))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %v", resp.StatusCode, tok)
	}
	_, idClaims := verifyIDToken(t, w.app, tok["id_token"].(string))
	access := tok["access_token"].(string)
	for what, claims := range map[string]map[string]any{
		"ID token":      idClaims,
		"access token":  verifyJWT(t, w.app, access, w.client.ID),
		"userinfo":      userinfo(t, w.ts, access),
		"introspection": introspect(t, w.ts, w.client.ID, w.ts.secret(w.client.ID), access),
	} {
		wantAgentClaims(t, what, claims, owner.Address(), id, w.reg, "onchain", true)
	}

	// Without the agent scope: the agent, but not its registration file.
	resp, n = postJSON(t, apiClient, w.ts.Issuer+"/auth/nonce", map[string]any{"address": owner.Address(), "client_id": w.client.ID, "chain_id": simChain})
	msg = w.message(n, owner.Address(), id).String()
	resp, tok = verifyJSON(t, w.ts, msg, owner.Sign(t, msg))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify without the agent scope: %d %v", resp.StatusCode, tok)
	}
	wantAgentClaims(t, "access token without the agent scope", verifyJWT(t, w.app, tok["access_token"].(string), w.client.ID), owner.Address(), id, w.reg, "onchain", false)
}

// TestAgentOwnershipRules: after a transfer the old owner is "not the
// owner" (when the nonce is asked for and when it signs), the new one
// signs in; the agent wallet signs in too; an unknown agent is "not
// registered"; a registry the client does not accept is refused.
func TestAgentOwnershipRules(t *testing.T) {
	w := newAgentWorld(t, onChain, nil, nil)
	owner, next, agentWallet := newWallet(t), newWallet(t), newWallet(t)
	id := w.registry.Register(t, walletAddr(owner), registrationURI)

	w.registry.SetWallet(t, owner.key, id, walletAddr(agentWallet))
	resp, tok := w.signIn(t, agentWallet, "", id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the agent wallet: %d %v", resp.StatusCode, tok)
	}
	wantAgentClaims(t, "agent wallet", verifyJWT(t, w.app, tok["access_token"].(string), w.client.ID), agentWallet.Address(), id, w.reg, "onchain", true)

	w.registry.Transfer(t, owner.key, walletAddr(next), id)
	resp, body := w.nonce(t, owner.Address(), id)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "not the owner", false)
	resp, body = w.signIn(t, owner, "", id)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "not the owner", false)
	resp, body = w.signIn(t, agentWallet, "", id) // the transfer cleared the agent wallet
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "not the owner", false)
	if resp, tok := w.signIn(t, next, "", id); resp.StatusCode != http.StatusOK {
		t.Fatalf("the new owner: %d %v", resp.StatusCode, tok)
	}

	resp, body = w.nonce(t, next.Address(), id+100)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "not registered", false)
	resp, body = w.signIn(t, next, "", id+100)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "not registered", false)

	other := chaintest.NewAgentRegistry(t, w.chain)
	otherID := other.Register(t, walletAddr(next), registrationURI)
	resp, n := w.nonce(t, next.Address(), -1)
	m := w.message(n, next.Address(), otherID)
	m.Registry = siwe.Registry{ChainID: simChain, Address: other.Address}.String()
	resp, body = verifyJSON(t, w.ts, m.String(), next.Sign(t, m.String()))
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "registry is not allowed for this client", false)
}

// TestAgentWithoutRPC: without an RPC endpoint for the registry's chain
// the sign-in is offline, and only where the client accepts it; a node
// that is down is 503, as for contract wallets.
func TestAgentWithoutRPC(t *testing.T) {
	anyone := newWallet(t)
	t.Run("the client accepts offline agents", func(t *testing.T) {
		w := newAgentWorld(t, nil, nil, func(p *clients.Params) { p.AgentOffline = true })
		resp, tok := w.signIn(t, anyone, "", 7)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("offline: %d %v", resp.StatusCode, tok)
		}
		_, claims := verifyIDToken(t, w.app, tok["id_token"].(string))
		wantAgentClaims(t, "ID token", claims, anyone.Address(), 7, w.reg, "offline", false)
	})
	t.Run("the client does not", func(t *testing.T) {
		w := newAgentWorld(t, nil, nil, nil)
		resp, body := w.nonce(t, anyone.Address(), 7)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "does not accept agents verified offline", false)
		resp, body = w.signIn(t, anyone, "", 7)
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "does not accept agents verified offline", false)
	})
	t.Run("a dead node", func(t *testing.T) {
		w := newAgentWorld(t, func(*chaintest.Chain) siwe.ContractCaller { return chaintest.DeadCaller{} }, nil, func(p *clients.Params) { p.AgentOffline = true })
		resp, body := w.signIn(t, anyone, "", 7)
		wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", "did not answer", false)
		resp, body = w.nonce(t, anyone.Address(), 7)
		wantOAuthError(t, resp, body, http.StatusServiceUnavailable, "temporarily_unavailable", "did not answer", false)
	})
}

// TestAgentOwnedBySmartAccount: an ERC-1271 wallet owns the agent; its
// owner key signs for it, and the wallet signs in as the agent.
func TestAgentOwnedBySmartAccount(t *testing.T) {
	w := newAgentWorld(t, onChain, nil, nil)
	key, stranger := newWallet(t), newWallet(t)
	account := w.chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "Wallet1271"), []string{"address"}, walletAddr(key)))
	id := w.registry.Register(t, account, registrationURI)
	resp, body := w.signIn(t, stranger, account.Hex(), id)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", descRejected, false)
	resp, tok := w.signIn(t, key, account.Hex(), id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("smart account: %d %v", resp.StatusCode, tok)
	}
	claims := verifyJWT(t, w.app, tok["access_token"].(string), w.client.ID)
	wantAgentClaims(t, "access token", claims, account.Hex(), id, w.reg, "onchain", true)
	if claims["signer"] != key.Address() {
		t.Fatalf("signer = %v, want the wallet's key %s", claims["signer"], key.Address())
	}
}

// TestAgentMessageChecks: a signed SIWA message is single use, expires
// with its challenge, and is refused when any field is not what the
// challenge and the server say, even when signed as edited.
func TestAgentMessageChecks(t *testing.T) {
	clock := clocktest.New(time.Now())
	w := newAgentWorld(t, onChain, clock, nil)
	owner, stranger := newWallet(t), newWallet(t)
	id := w.registry.Register(t, walletAddr(owner), registrationURI)
	strangersAgent := w.registry.Register(t, walletAddr(stranger), registrationURI)

	_, n := w.nonce(t, owner.Address(), id)
	msg := w.message(n, owner.Address(), id).String()
	sig := owner.Sign(t, msg)
	if resp, tok := verifyJSON(t, w.ts, msg, sig); resp.StatusCode != http.StatusOK {
		t.Fatalf("first use: %d %v", resp.StatusCode, tok)
	}
	resp, body := verifyJSON(t, w.ts, msg, sig)
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "already used", false)

	_, n = w.nonce(t, owner.Address(), id)
	msg = w.message(n, owner.Address(), id).String()
	clock.Advance(siwe.DefaultLifetime + time.Second)
	resp, body = verifyJSON(t, w.ts, msg, owner.Sign(t, msg))
	wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "expired", false)

	host := mustURL(t, w.ts.Issuer).Host
	for _, tc := range []struct {
		name, want string
		edit       func(*siwaText)
	}{
		{"domain", "domain does not match", func(m *siwaText) { m.Domain = "evil.example" }},
		{"URI", "URI does not match", func(m *siwaText) { m.URI = "https://evil.example/" }},
		{"chain", "chain ID", func(m *siwaText) { m.ChainID = 1 }},
		{"nonce", "nonce was not issued", func(m *siwaText) { m.Nonce = "NotIssuedByUs0123456" }},
		{"issued in the future", "in the future", func(m *siwaText) { m.IssuedAt = clock.Now().Add(time.Hour).UTC().Format(time.RFC3339) }},
		{"expired", "Expiration Time has passed", func(m *siwaText) { m.Expires = clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339) }},
		{"agent ID", "not the owner", func(m *siwaText) { m.AgentID = strangersAgent }},
		{"registry", "not allowed for this client", func(m *siwaText) {
			m.Registry = siwe.Registry{ChainID: simChain, Address: common.HexToAddress("0x8004000000000000000000000000000000000001")}.String()
		}},
		{"not a SIWA line", "not a valid SIWA message", func(m *siwaText) { m.Statement = "Sign in\nnow" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, n := w.nonce(t, owner.Address(), -1)
			m := w.message(n, owner.Address(), id)
			if m.Domain != host {
				t.Fatalf("nonce domain %s, want %s", m.Domain, host)
			}
			tc.edit(&m)
			resp, body := verifyJSON(t, w.ts, m.String(), owner.Sign(t, m.String()))
			status, code := http.StatusBadRequest, "invalid_grant"
			if tc.name == "not a SIWA line" {
				code = "invalid_request"
			}
			wantOAuthError(t, resp, body, status, code, tc.want, false)
		})
	}
	t.Run("address, signed by that account", func(t *testing.T) {
		_, n := w.nonce(t, owner.Address(), -1)
		m := w.message(n, stranger.Address(), strangersAgent)
		resp, body := verifyJSON(t, w.ts, m.String(), stranger.Sign(t, m.String()))
		wantOAuthError(t, resp, body, http.StatusBadRequest, "invalid_grant", "address does not match", false)
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDiscoveryAdvertisesAgents: discovery advertises the agent scope and
// the agent claims.
func TestDiscoveryAdvertisesAgents(t *testing.T) {
	ts := newTestServer(t, nil)
	resp, err := apiClient.Get(ts.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	d := decodeBody(t, resp)
	has := func(key, want string) bool {
		list, _ := d[key].([]any)
		for _, v := range list {
			if v == want {
				return true
			}
		}
		return false
	}
	for _, c := range []string{"agent_id", "agent_registry", "agent_verified", "agent_name", "agent_services"} {
		if !has("claims_supported", c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
	if !has("scopes_supported", "agent") {
		t.Error("scopes_supported lacks agent")
	}
}
