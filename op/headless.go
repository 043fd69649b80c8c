package op

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// Headless sign-in: a backend or an AI agent holding a key gets tokens in two
// requests, with no browser. Two wire formats share one implementation:
//   - DIMO's /auth/web3/generate_challenge and submit_challenge (form or
//     query parameters), so DIMO's SDKs work by changing the base URL;
//   - the JSON nonce/verify pattern, /auth/nonce and /auth/verify.

// headlessAMR marks logins made without a browser (RFC 8176 "pop": proof of
// possession of a key).
var headlessAMR = []string{"pop", "headless"}

// challengeParams is what both challenge endpoints ask for.
type challengeParams struct {
	ClientID    string
	RedirectURI string // DIMO's "domain"; empty for /auth/nonce
	Scope       string
	Address     string
	ChainID     int64
}

// issueHeadless validates a headless challenge request and issues the challenge.
func (s *Server) issueHeadless(ctx context.Context, p challengeParams) (*siwe.Challenge, error) {
	if p.ClientID == "" {
		return nil, errBadRequest("client_id is required")
	}
	if p.Address == "" {
		return nil, errBadRequest("address is required")
	}
	c, err := s.clients.get(ctx, p.ClientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, oidc.ErrInvalidClient().WithDescription("unknown client_id")
	}
	if err != nil {
		return nil, err
	}
	if c.NoHeadless {
		return nil, errNoHeadless
	}
	if p.RedirectURI != "" && !slices.Contains(c.RedirectURIs, p.RedirectURI) {
		return nil, errBadRequest("domain must be one of the client's registered redirect URIs, exactly")
	}
	if !common.IsHexAddress(p.Address) {
		return nil, errBadRequest("address is not a valid Ethereum address")
	}
	chainID, err := s.signInChain(c, common.HexToAddress(p.Address), p.ChainID)
	if err != nil {
		return nil, err
	}
	return s.siwe.Issue(ctx, siwe.IssueRequest{
		Address:     p.Address,
		ChainID:     chainID,
		ClientID:    c.ID,
		Scopes:      headlessScopes(c, p.Scope),
		RedirectURI: p.RedirectURI,
		Statement:   statementFor(c.Name),
	})
}

// signInChain is the chain a challenge for address names, given the chain
// asked for (0: the default). A developer license signs in on its own chain
// only, in every flow: its signers are registered for the contract on that
// chain, not for the same address elsewhere.
func (s *Server) signInChain(c *clients.Client, address common.Address, asked int64) (int64, error) {
	if !c.IsLicense() || address.Hex() != c.ID {
		return asked, nil
	}
	if asked != 0 && asked != c.LicenseChainID {
		return 0, errBadRequest("this developer license lives on another chain")
	}
	if !slices.Contains(s.cfg.ChainIDs, c.LicenseChainID) {
		return 0, errBadRequest("the developer license's chain is not enabled on this server")
	}
	return c.LicenseChainID, nil
}

// headlessScopes keeps the requested scopes the client may have, and always openid.
func headlessScopes(c *clients.Client, scope string) []string {
	out := []string{oidc.ScopeOpenID}
	for _, sc := range strings.Fields(scope) {
		if sc != oidc.ScopeOpenID && c.ScopeAllowed(sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// errNoHeadless answers a headless request for a client registered without
// the headless APIs.
var errNoHeadless = oidc.ErrUnauthorizedClient().WithDescription("this client is registered without the headless sign-in APIs")

// clientCredentials are what a caller presented to authenticate as a client
// (RFC 6749 §2.3.1): HTTP Basic, or client_id and client_secret in the body.
type clientCredentials struct {
	id, secret string
	present    bool
}

// credentialsFrom reads HTTP Basic credentials (form-encoded, RFC 6749
// §2.3.1), else the body's client_id and client_secret.
func credentialsFrom(r *http.Request, bodyID, bodySecret string) clientCredentials {
	if id, secret, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return clientCredentials{present: true}
		}
		return clientCredentials{id: uid, secret: usecret, present: true}
	}
	if bodySecret != "" {
		return clientCredentials{id: bodyID, secret: bodySecret, present: true}
	}
	return clientCredentials{}
}

// authorizeHeadless applies SPEC's client rules to a headless sign-in of
// account for c: the client allows the headless APIs; a public client sends
// no secret; a developer license is authenticated by its signer's
// signature when the license itself signs in; any other confidential
// client authenticates as at the token endpoint.
func authorizeHeadless(c *clients.Client, account common.Address, creds clientCredentials) error {
	switch {
	case c.NoHeadless:
		return errNoHeadless
	case c.Public, c.IsLicense() && account.Hex() == c.ID:
		return nil
	case !creds.present || clients.NormalizeID(creds.id) != c.ID || !c.CheckSecret(creds.secret):
		return oidc.ErrInvalidClient().WithDescription("client authentication failed: a confidential client sends its client_id and client_secret (HTTP Basic or in the body)")
	}
	return nil
}

// redeemHeadless verifies a signed message and issues tokens for it, as the
// token endpoint would for an authorization code, once the client is
// authorized (authorizeHeadless).
func (s *Server) redeemHeadless(ctx context.Context, flow, message, signature string, expect siwe.Expect, creds clientCredentials) (*oidc.AccessTokenResponse, error) {
	start := time.Now()
	// The challenge is consumed in the transaction that stores the tokens.
	res, err := s.siwe.Check(ctx, message, signature, expect)
	s.metrics.ObserveVerify(time.Since(start))
	if err != nil {
		s.metrics.Login(flow, "rejected")
		return nil, err
	}
	c, err := s.clients.get(ctx, res.Challenge.ClientID)
	if err != nil {
		return nil, err
	}
	if err := authorizeHeadless(c, res.Challenge.Address, creds); err != nil {
		s.metrics.Login(flow, "rejected")
		return nil, err
	}
	issued := time.Now()
	resp, err := s.issueTokens(ctx, res)
	if errors.Is(err, siwe.ErrChallengeReused) {
		s.metrics.Login(flow, "rejected")
		return nil, err
	}
	if err != nil {
		s.metrics.Login(flow, "error")
		return nil, err
	}
	s.metrics.ObserveIssue(time.Since(issued))
	s.metrics.Login(flow, "success")
	return resp, nil
}

// issueTokens records the login and builds a token response with the same
// machinery, keys, claims and lifetimes as the code flow.
func (s *Server) issueTokens(ctx context.Context, res *siwe.Result) (*oidc.AccessTokenResponse, error) {
	ch := res.Challenge
	cl, err := s.store.client(ctx, ch.ClientID)
	if err != nil {
		return nil, err
	}
	req := authRequest{AuthRequest: &storage.AuthRequest{
		ClientID:     ch.ClientID,
		RedirectURI:  ch.RedirectURI,
		ResponseType: string(oidc.ResponseTypeCode),
		Scopes:       ch.Scopes,
		Login:        s.newLogin(ctx, res, headlessAMR),
	}, challenge: ch.ID}
	ctx = zop.ContextWithIssuer(ctx, s.cfg.Issuer)
	return zop.CreateTokenResponse(ctx, req, cl, s.provider, true, "", "")
}

// delegates implements siwe.Delegates: a developer license's registered
// signers may sign for it.
type delegates struct{ clients lookupClients }

func (d delegates) Delegates(ctx context.Context, c *siwe.Challenge) ([]common.Address, error) {
	cl, err := d.clients.get(ctx, c.ClientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// A license's signers sign for the license itself, on its chain, and
	// for nothing else.
	if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {
		return nil, nil
	}
	return cl.Signers, nil
}

// limit spends the caller's budgets: its IP's and, when address is set,
// that of its IP asking for this address (see RateLimits). It answers 429
// itself and reports false when the caller must stop.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, address string, withMessage bool) bool {
	caller := callerKey(r, s.cfg.RateLimits.TrustedProxies)
	if ok, wait := s.ipLimit.allow(caller); !ok {
		rateLimited(w, wait, withMessage)
		return false
	}
	if address != "" && common.IsHexAddress(address) {
		if ok, wait := s.addrLimit.allow(caller + " " + common.HexToAddress(address).Hex()); !ok {
			rateLimited(w, wait, withMessage)
			return false
		}
	}
	return true
}

// limitPage is limit for the browser's pages (/authorize, its callback):
// the 429 is a page.
func (s *Server) limitPage(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.ipLimit.allow(callerKey(r, s.cfg.RateLimits.TrustedProxies))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
		s.errorPage(w, http.StatusTooManyRequests, "Too many requests",
			"Too many sign-in attempts from your network. Wait "+strconv.Itoa(retryAfter(wait))+" seconds and try again.")
	}
	return ok
}

// writeTokens answers with a token response (RFC 6749 §5.1).
func writeTokens(w http.ResponseWriter, resp *oidc.AccessTokenResponse) {
	resp.State = ""
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// --- DIMO-compatible endpoints -------------------------------------------

// handleGenerateChallenge is POST /auth/web3/generate_challenge. DIMO's JS
// SDK sends every parameter in the query string with an empty body, so both
// are read (r.FormValue merges them, the body first).
func (s *Server) handleGenerateChallenge(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.writeError(w, r, err, true)
		return
	}
	if rt := r.FormValue("response_type"); rt != "" && rt != "code" {
		writeJSONError(w, http.StatusBadRequest, "unsupported_response_type", "response_type must be code", true)
		return
	}
	if !s.limit(w, r, r.FormValue("address"), true) {
		return
	}
	ch, err := s.issueHeadless(r.Context(), challengeParams{
		ClientID:    r.FormValue("client_id"),
		RedirectURI: r.FormValue("domain"),
		Scope:       r.FormValue("scope"),
		Address:     r.FormValue("address"),
	})
	if err != nil {
		s.writeError(w, r, err, true)
		return
	}
	if ch.RedirectURI == "" {
		s.writeError(w, r, errBadRequest("domain is required"), true)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"state": ch.ID, "challenge": ch.Message})
}

// handleSubmitChallenge is POST /auth/web3/submit_challenge.
func (s *Server) handleSubmitChallenge(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(r); err != nil {
		s.writeError(w, r, err, true)
		return
	}
	if !s.limit(w, r, "", true) {
		return
	}
	if gt := r.FormValue("grant_type"); gt != "" && gt != string(oidc.GrantTypeCode) {
		writeJSONError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code", true)
		return
	}
	clientID, state, sig := r.FormValue("client_id"), r.FormValue("state"), r.FormValue("signature")
	if clientID == "" || state == "" || sig == "" {
		s.writeError(w, r, errBadRequest("client_id, state and signature are required"), true)
		return
	}
	cl, err := s.clients.get(r.Context(), clientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		s.writeError(w, r, oidc.ErrInvalidClient().WithDescription("unknown client_id"), true)
		return
	} else if err != nil {
		s.writeError(w, r, err, true)
		return
	}
	ch, err := s.siwe.Challenge(r.Context(), state)
	if errors.Is(err, siwe.ErrChallengeNotFound) {
		s.writeError(w, r, oidc.ErrInvalidGrant().WithDescription("unknown or expired state; ask for a new challenge"), true)
		return
	} else if err != nil {
		s.writeError(w, r, err, true)
		return
	}
	if ch.ClientID != cl.ID {
		s.writeError(w, r, oidc.ErrInvalidGrant().WithDescription("state was issued to a different client"), true)
		return
	}
	if d := r.FormValue("domain"); d != "" && d != ch.RedirectURI {
		s.writeError(w, r, oidc.ErrInvalidGrant().WithDescription("domain does not match the challenge"), true)
		return
	}
	creds := credentialsFrom(r, clientID, r.FormValue("client_secret"))
	resp, err := s.redeemHeadless(r.Context(), "dimo", ch.Message, sig, siwe.Expect{Challenge: ch, ClientID: cl.ID, Headless: true}, creds)
	if err != nil {
		s.writeError(w, r, err, true)
		return
	}
	writeTokens(w, resp)
}

// parseForm reads query and form parameters with a bounded body; a JSON
// object body is accepted too, its string and number members read as
// parameters.
func parseForm(r *http.Request) error {
	r.Body = http.MaxBytesReader(nil, r.Body, maxJSONBody)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return errBadRequest("request body is not a JSON object")
		}
		if err := r.ParseForm(); err != nil {
			return errBadRequest("request parameters are malformed")
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				r.Form.Set(k, v)
			case float64:
				r.Form.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
		return nil
	}
	if err := r.ParseForm(); err != nil {
		return errBadRequest("request parameters are malformed")
	}
	return nil
}

// --- JSON nonce/verify endpoints -------------------------------------------

type nonceRequest struct {
	Address  string `json:"address"`
	ClientID string `json:"client_id"`
	ChainID  int64  `json:"chain_id"`
	Scope    string `json:"scope"`
}

type nonceResponse struct {
	Nonce          string `json:"nonce"`
	Message        string `json:"message"`
	IssuedAt       string `json:"issued_at"`
	ExpirationTime string `json:"expiration_time"`
	Domain         string `json:"domain"`
	URI            string `json:"uri"`
	ChainID        int64  `json:"chain_id"`
}

// handleNonce is POST /auth/nonce.
func (s *Server) handleNonce(w http.ResponseWriter, r *http.Request) {
	var req nonceRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err, false)
		return
	}
	if !s.limit(w, r, req.Address, false) {
		return
	}
	if req.ChainID < 0 {
		s.writeError(w, r, errBadRequest("chain_id must be positive"), false)
		return
	}
	ch, err := s.issueHeadless(r.Context(), challengeParams{ClientID: req.ClientID, Scope: req.Scope, Address: req.Address, ChainID: req.ChainID})
	if err != nil {
		s.writeError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, nonceResponse{
		Nonce:          ch.Nonce,
		Message:        ch.Message,
		IssuedAt:       ch.IssuedAt.UTC().Format(time.RFC3339Nano),
		ExpirationTime: ch.ExpiresAt.UTC().Format(time.RFC3339Nano),
		Domain:         s.issuer.Host,
		URI:            s.cfg.Issuer,
		ChainID:        ch.ChainID,
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

// handleVerify is POST /auth/verify: the agent may sign the server's message
// or its own EIP-4361 message carrying the server's nonce.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err, false)
		return
	}
	if !s.limit(w, r, "", false) {
		return
	}
	if req.Message == "" || req.Signature == "" {
		s.writeError(w, r, errBadRequest("message and signature are required"), false)
		return
	}
	resp, err := s.redeemHeadless(r.Context(), "json", req.Message, req.Signature, siwe.Expect{Headless: true, ClientID: clients.NormalizeID(req.ClientID)}, credentialsFrom(r, req.ClientID, req.ClientSecret))
	if err != nil {
		s.writeError(w, r, err, false)
		return
	}
	writeTokens(w, resp)
}
