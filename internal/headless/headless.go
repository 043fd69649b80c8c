// Package headless serves sign-in without a browser: a backend or an AI
// agent holding a key gets tokens in two requests. Two wire formats share
// signin.Core:
//   - DIMO's /auth/web3/generate_challenge and submit_challenge (form,
//     query or JSON parameters), so that DIMO's SDKs work by changing their
//     base URL; their errors carry DIMO's "message" beside the OAuth fields;
//   - the JSON nonce/verify pattern, /auth/nonce and /auth/verify, which
//     also takes an agent's own SIWA message (SPEC "Agents") and a Stellar
//     account's CAIP-122 challenge (SPEC "Non-EVM accounts"), signed as
//     issued; DIMO's API takes Ethereum accounts only.
package headless

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
)

// API serves the headless endpoints.
type API struct {
	Core   *signin.Core
	Limits *httpapi.Limits
	Log    *slog.Logger
	// Domain and URI are what /auth/nonce says a message must carry: the
	// issuer's host[:port] and URL.
	Domain, URI string
}

// Register adds the endpoints to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /auth/web3/generate_challenge", a.generateChallenge)
	mux.HandleFunc("POST /auth/web3/submit_challenge", a.submitChallenge)
	mux.HandleFunc("POST /auth/nonce", a.nonce)
	mux.HandleFunc("POST /auth/verify", a.verify)
}

// allow spends the caller's budgets (address: the one asked for, if any,
// an Ethereum address or a Stellar "G…"); when one is spent it answers 429
// and reports false.
func (a *API) allow(w http.ResponseWriter, r *http.Request, address string, dimo bool) bool {
	ok, wait := a.Limits.Allow(r, signin.RateKey(address))
	if !ok {
		httpapi.WriteTooMany(w, wait, dimo)
	}
	return ok
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error, dimo bool) {
	httpapi.WriteOAuth(w, r, a.Log, err, dimo)
}

// writeTokens answers with a token response (RFC 6749 §5.1).
func writeTokens(w http.ResponseWriter, resp *oidc.AccessTokenResponse) {
	resp.State = ""
	w.Header().Set("Pragma", "no-cache")
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

// generateChallenge is POST /auth/web3/generate_challenge. DIMO's JS SDK
// sends every parameter in the query string with an empty body, so both
// are read (r.FormValue merges them, the body first).
func (a *API) generateChallenge(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.ReadParams(r); err != nil {
		a.fail(w, r, err, true)
		return
	}
	if rt := r.FormValue("response_type"); rt != "" && rt != "code" {
		httpapi.WriteError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code", true)
		return
	}
	if !a.allow(w, r, r.FormValue("address"), true) {
		return
	}
	if r.FormValue("domain") == "" {
		a.fail(w, r, httpapi.BadRequest("domain is required"), true)
		return
	}
	ch, err := a.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{
		ClientID:    r.FormValue("client_id"),
		RedirectURI: r.FormValue("domain"),
		Scope:       r.FormValue("scope"),
		Address:     r.FormValue("address"),
	})
	if err != nil {
		a.fail(w, r, err, true)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"state": ch.ID, "challenge": ch.Message})
}

// submitChallenge is POST /auth/web3/submit_challenge.
func (a *API) submitChallenge(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.ReadParams(r); err != nil {
		a.fail(w, r, err, true)
		return
	}
	if !a.allow(w, r, "", true) {
		return
	}
	if gt := r.FormValue("grant_type"); gt != "" && gt != string(oidc.GrantTypeCode) {
		httpapi.WriteError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code", true)
		return
	}
	clientID, state, sig := clients.NormalizeID(r.FormValue("client_id")), r.FormValue("state"), r.FormValue("signature")
	if clientID == "" || state == "" || sig == "" {
		a.fail(w, r, httpapi.BadRequest("client_id, state and signature are required"), true)
		return
	}
	ch, err := a.Core.Challenge(r.Context(), state)
	if err != nil {
		a.fail(w, r, err, true)
		return
	}
	if d := r.FormValue("domain"); d != "" && d != ch.RedirectURI {
		a.fail(w, r, &httpapi.Error{Status: 400, Code: "invalid_grant", Description: "domain does not match the challenge"}, true)
		return
	}
	creds := httpapi.CredentialsFrom(r, clientID, r.FormValue("client_secret"))
	resp, err := a.Core.Redeem(r.Context(), signin.RedeemRequest{
		Flow: "dimo", Message: ch.Message, Signature: sig, Expect: siwe.Expect{Challenge: ch, ClientID: clientID}, Credentials: creds,
	})
	if err != nil {
		a.fail(w, r, err, true)
		return
	}
	writeTokens(w, resp)
}

type nonceRequest struct {
	Address  string `json:"address"`
	ClientID string `json:"client_id"`
	ChainID  int64  `json:"chain_id"`
	Scope    string `json:"scope"`
	// AgentID and AgentRegistry, together, name the agent that will sign
	// in (SIWA): it is checked before the nonce is issued.
	AgentID       *int64 `json:"agent_id"`
	AgentRegistry string `json:"agent_registry"`
}

type nonceResponse struct {
	Nonce          string `json:"nonce"`
	Message        string `json:"message"`
	IssuedAt       string `json:"issued_at"`
	ExpirationTime string `json:"expiration_time"`
	Domain         string `json:"domain"`
	URI            string `json:"uri"`
	// ChainID is the message's Chain ID: an EIP-155 number, or for a
	// Stellar account the CAIP-2 reference "pubnet" (CAIP-122).
	ChainID any `json:"chain_id"`
}

// nonce is POST /auth/nonce.
func (a *API) nonce(w http.ResponseWriter, r *http.Request) {
	var req nonceRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		a.fail(w, r, err, false)
		return
	}
	if !a.allow(w, r, req.Address, false) {
		return
	}
	if req.ChainID < 0 {
		a.fail(w, r, httpapi.BadRequest("chain_id must be positive"), false)
		return
	}
	agent, err := signin.ParseAgent(req.AgentID, req.AgentRegistry)
	if err != nil {
		a.fail(w, r, err, false)
		return
	}
	ch, err := a.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{
		ClientID: req.ClientID, Scope: req.Scope, Address: req.Address, ChainID: req.ChainID, Agent: agent, Stellar: true,
	})
	if err != nil {
		a.fail(w, r, err, false)
		return
	}
	var chainID any = ch.ChainID
	if ch.IsStellar() {
		chainID = siwe.StellarChain
	}
	httpapi.WriteJSON(w, http.StatusOK, nonceResponse{
		Nonce:          ch.Nonce,
		Message:        ch.Message,
		IssuedAt:       ch.IssuedAt.UTC().Format(time.RFC3339Nano),
		ExpirationTime: ch.ExpiresAt.UTC().Format(time.RFC3339Nano),
		Domain:         a.Domain,
		URI:            a.URI,
		ChainID:        chainID,
	})
}

type verifyRequest struct {
	Message   string `json:"message"`
	Signature string `json:"signature"`
	// ClientID and ClientSecret authenticate a confidential client (or
	// send them with HTTP Basic).
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// verify is POST /auth/verify: the agent may sign the server's message or
// its own EIP-4361 or SIWA message carrying the server's nonce; a SIWA
// message's agent is checked too, and its tokens carry it.
func (a *API) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		a.fail(w, r, err, false)
		return
	}
	if !a.allow(w, r, "", false) {
		return
	}
	if req.Message == "" || req.Signature == "" {
		a.fail(w, r, httpapi.BadRequest("message and signature are required"), false)
		return
	}
	expect := siwe.Expect{ClientID: clients.NormalizeID(req.ClientID), Stellar: true}
	resp, err := a.Core.Redeem(r.Context(), signin.RedeemRequest{
		Flow: "json", Message: req.Message, Signature: req.Signature, Expect: expect,
		Credentials: httpapi.CredentialsFrom(r, req.ClientID, req.ClientSecret),
	})
	if err != nil {
		a.fail(w, r, err, false)
		return
	}
	writeTokens(w, resp)
}
