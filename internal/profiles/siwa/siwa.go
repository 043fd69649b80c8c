package siwa

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
)

// KeySet is the provider's published keys, which Bearer tokens are checked
// against; *keyring.Ring is one.
type KeySet interface {
	// KeySet returns the published public keys.
	KeySet(ctx context.Context) ([]zop.Key, error)
}

// Config is what the profile works with.
type Config struct {
	compat.SignIn
	// Keys are the keys Bearer tokens are checked against.
	Keys KeySet
	// Issuer is the issuer URL: the profile's base URL is under it, and its
	// tokens name it.
	Issuer string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Profile serves the siwa profile for the client compat.Router found; use
// [New].
type Profile struct {
	cfg    Config
	domain string
}

// New returns the profile's handler.
func New(cfg Config) *Profile {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.SignIn = cfg.SignIn.WithDefaults()
	p := &Profile{cfg: cfg}
	if u, err := url.Parse(cfg.Issuer); err == nil {
		p.domain = u.Host
	}
	return p
}

// routes are the profile's endpoints, by path and method.
var routes = map[string]string{
	"/api/siwa/nonce":   http.MethodPost,
	"/api/siwa/verify":  http.MethodPost,
	"/api/protected":    http.MethodGet,
	"/api/agent-action": http.MethodPost,
}

// ServeHTTP answers with open CORS, as the SIWA server does, and routes.
func (p *Profile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	method, known := routes[r.URL.Path]
	switch {
	case r.Method == http.MethodOptions:
		w.WriteHeader(http.StatusNoContent)
	case !known:
		fail(w, http.StatusNotFound, "Not found")
	case r.Method != method:
		h.Set("Allow", method+", OPTIONS")
		fail(w, http.StatusMethodNotAllowed, "Method not allowed")
	case r.URL.Path == "/api/siwa/nonce":
		p.nonce(w, r)
	case r.URL.Path == "/api/siwa/verify":
		p.verify(w, r)
	case r.URL.Path == "/api/protected":
		p.protected(w, r)
	default:
		p.agentAction(w, r)
	}
}

// fail writes the profile's error envelope.
func fail(w http.ResponseWriter, status int, words string) {
	httpapi.WriteJSON(w, status, map[string]any{"success": false, "error": words})
}

// verifyURI is the URI the client's agents sign: the profile's verify URL,
// as the SIWA server names its own.
func (p *Profile) verifyURI(cl *clients.Client) string {
	return strings.TrimSuffix(p.cfg.Issuer, "/") + compat.Prefix + cl.ID + "/api/siwa/verify"
}

// isoTime is JavaScript's Date.toISOString, the SIWA server's format.
func isoTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

type nonceRequest struct {
	Address       string          `json:"address"`
	AgentID       json.RawMessage `json:"agentId"`
	AgentRegistry string          `json:"agentRegistry"`
}

// nonce is POST /api/siwa/nonce.
func (p *Profile) nonce(w http.ResponseWriter, r *http.Request) {
	var req nonceRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if ok, wait := p.cfg.Limits.Allow(r, addressKey(req.Address)); !ok {
		tooMany(w, wait)
		return
	}
	if req.Address == "" {
		fail(w, http.StatusBadRequest, "Missing address")
		return
	}
	id, err := agentID(req.AgentID)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	agent, err := signin.ParseAgent(id, req.AgentRegistry)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	cl := compat.Client(r.Context())
	cr := signin.ChallengeRequest{ClientID: cl.ID, Address: req.Address, Agent: agent}
	if agent != nil {
		cr.ChainID = agent.Registry.ChainID
	}
	ch, err := p.cfg.Core.IssueChallenge(r.Context(), cr)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"nonce": ch.Nonce, "issuedAt": isoTime(ch.IssuedAt), "expirationTime": isoTime(ch.ExpiresAt),
		"domain": p.domain, "uri": p.verifyURI(cl), "chainId": ch.ChainID,
	})
}

// agentID reads agentId, a JSON number or a string of digits; absent or
// null is none.
func agentID(raw json.RawMessage) (*int64, error) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	s = strings.Trim(s, `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return nil, httpapi.BadRequest("agentId is not an ERC-721 token ID")
	}
	return &n, nil
}

// addressKey is the address a nonce request spends a budget of, if it is one.
func addressKey(address string) string {
	if common.IsHexAddress(address) {
		return common.HexToAddress(address).Hex()
	}
	return ""
}

type verifyRequest struct {
	Message   string `json:"message"`
	Signature string `json:"signature"`
}

// verify is POST /api/siwa/verify.
func (p *Profile) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if ok, wait := p.cfg.Limits.Allow(r, ""); !ok {
		tooMany(w, wait)
		return
	}
	if req.Message == "" || req.Signature == "" {
		fail(w, http.StatusBadRequest, "Missing message or signature")
		return
	}
	cl := compat.Client(r.Context())
	resp, err := p.cfg.Core.Redeem(r.Context(), signin.RedeemRequest{
		Flow: "siwa", Message: req.Message, Signature: req.Signature, Profile: true,
		Expect: siwe.Expect{ClientID: cl.ID, URI: p.verifyURI(cl), Agent: true},
	})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	claims, err := p.agentToken(r.Context(), resp.AccessToken, cl.ID)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"success": true, "token": resp.AccessToken, "address": claims.Address, "agentId": *claims.AgentID,
		"agentRegistry": claims.AgentRegistry, "verified": claims.AgentVerified, "expiresAt": isoTime(time.Unix(claims.Expiry, 0)),
	})
}

// tooMany answers a spent budget (SPEC "Errors": 429 with Retry-After).
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(httpapi.RetryAfter(wait)))
	fail(w, http.StatusTooManyRequests, "Too many requests")
}

// refuse answers a failed nonce or verify request: 400 for malformed
// input, 401 for a refused check (a used or expired nonce too), the
// status of anything else, in the SIWA server's words for the check.
func (p *Profile) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	httpapi.Log(p.cfg.Log, r, e)
	status := e.Status
	if e.Code == "invalid_grant" {
		status = http.StatusUnauthorized
	}
	words, ok := checkWords[e.Check]
	switch {
	case !e.ClientFault() && status == http.StatusServiceUnavailable:
		words = "Temporarily unavailable: " + e.Description
	case !e.ClientFault():
		words = "Internal error"
	case !ok:
		words = e.Description
	}
	fail(w, status, words)
}

// checkWords are the SIWA server's words for each failed check (its
// SIWAErrorCode messages where it has one).
var checkWords = map[siwe.Check]string{
	siwe.CheckMessage:            "Invalid SIWA message",
	siwe.CheckSignature:          "Invalid signature",
	siwe.CheckSigner:             "Invalid signature",
	siwe.CheckContractWallet:     "Invalid signature",
	siwe.CheckNoRPC:              "Invalid signature: smart-account signatures cannot be checked on this chain",
	siwe.CheckNonce:              "Invalid or consumed nonce",
	siwe.CheckUsed:               "Invalid or consumed nonce",
	siwe.CheckExpired:            "Message expired",
	siwe.CheckDomain:             "Domain mismatch",
	siwe.CheckChain:              "Chain ID not accepted",
	siwe.CheckAddress:            "Invalid or mismatched address",
	siwe.CheckAgentRegistry:      "Agent registry not allowed",
	siwe.CheckAgentNotRegistered: "Agent is not registered on the ERC-8004 Identity Registry",
	siwe.CheckAgentNotOwner:      "Signer is not the owner of this agent NFT",
	siwe.CheckAgentOffline:       "Agent ownership cannot be verified onchain",
}
