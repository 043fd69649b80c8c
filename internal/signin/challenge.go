package signin

import (
	"context"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// ChallengeRequest asks for a challenge: headless (a client, scopes and
// perhaps DIMO's "domain") or for a browser's authorization request.
type ChallengeRequest struct {
	// ClientID is the client that asks; a browser request's own when
	// AuthRequest is set.
	ClientID string
	// Address is the account that will sign, hex in any letter case.
	Address string
	// ChainID is the chain asked for; 0 means the default (a developer
	// license's own chain for the license).
	ChainID int64
	// Scope is the space-separated scopes a headless request asks for.
	Scope string
	// RedirectURI is DIMO's "domain": one of the client's redirect URIs.
	RedirectURI string
	// AuthRequest is the browser authorization request the challenge
	// completes; nil for a headless sign-in.
	AuthRequest *storage.AuthRequest
	// Agent, if set, is the agent Address will sign in as (SIWA): whether
	// it may is checked before the challenge is issued.
	Agent *siwe.Agent
	// Stellar, if set, lets Address be a Stellar account (SPEC "Non-EVM
	// accounts"); without it the surface takes Ethereum accounts only.
	Stellar bool
	// ByAccount lists the challenge under its client and account, for a
	// surface whose verify request names the wallet and no nonce (RedeemOpen).
	ByAccount bool
}

// errNoHeadless answers a headless request for a client registered
// without the headless APIs.
var errNoHeadless = &httpapi.Error{Status: 400, Code: "unauthorized_client", Description: "this client is registered without the headless sign-in APIs"}

// IssueChallenge checks a challenge request against its client and issues
// the challenge.
func (c *Core) IssueChallenge(ctx context.Context, r ChallengeRequest) (*siwe.Challenge, error) {
	browser := r.AuthRequest != nil
	if browser {
		r.ClientID = r.AuthRequest.ClientID
	}
	if r.ClientID == "" {
		return nil, httpapi.BadRequest("client_id is required")
	}
	if r.Address == "" {
		return nil, httpapi.BadRequest("address is required")
	}
	cl, err := c.client(ctx, r.ClientID)
	if err != nil {
		return nil, err
	}
	if !browser && cl.NoHeadless {
		return nil, errNoHeadless
	}
	if r.RedirectURI != "" && !cl.RedirectURIAllowed(r.RedirectURI) {
		return nil, httpapi.BadRequest("domain must be one of the client's registered redirect URIs")
	}
	if !common.IsHexAddress(r.Address) {
		return c.issueStellar(ctx, cl, r)
	}
	chainID, err := c.chain(cl, common.HexToAddress(r.Address), r.ChainID)
	if err != nil {
		return nil, err
	}
	if r.Agent != nil {
		if err := c.Agents.Allow(ctx, cl, common.HexToAddress(r.Address), *r.Agent); err != nil {
			return nil, err
		}
	}
	issue := siwe.IssueRequest{
		Address:     r.Address,
		ChainID:     chainID,
		ClientID:    cl.ID,
		Scopes:      headlessScopes(cl, r.Scope),
		RedirectURI: r.RedirectURI,
		Statement:   statementFor(cl.Name, "Ethereum"),
		ByAccount:   r.ByAccount,
	}
	if browser {
		issue.Scopes, issue.AuthRequestID = r.AuthRequest.Scopes, r.AuthRequest.ID
	}
	return c.Verifier.Issue(ctx, issue)
}

// chain is the chain a challenge for address names, given the chain asked
// for (0: the default). A developer license signs in on its own chain only,
// in every flow: its signers are registered for the contract on that chain,
// not for the same address elsewhere.
func (c *Core) chain(cl *clients.Client, address common.Address, asked int64) (int64, error) {
	if !cl.IsLicense() || address.Hex() != cl.ID {
		return asked, nil
	}
	if asked != 0 && asked != cl.LicenseChainID {
		return 0, &httpapi.Error{Status: 400, Code: "invalid_request", Description: "this developer license lives on another chain"}
	}
	if !slices.Contains(c.cfg.ChainIDs, cl.LicenseChainID) {
		return 0, &httpapi.Error{Status: 400, Code: "invalid_request", Description: "the developer license's chain is not enabled on this server"}
	}
	return cl.LicenseChainID, nil
}

// headlessScopes keeps the requested scopes the client may have, and always openid.
func headlessScopes(cl *clients.Client, scope string) []string {
	out := []string{oidc.ScopeOpenID}
	for _, sc := range strings.Fields(scope) {
		if sc != oidc.ScopeOpenID && cl.ScopeAllowed(sc) && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// statementFor is the human-readable line of the message (EIP-4361 and
// CAIP-122 statement: one line, so control characters are dropped), for an
// account of the named blockchain.
func statementFor(clientName, blockchain string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, clientName)
	return "Sign in to " + name + " with your " + blockchain + " account."
}
