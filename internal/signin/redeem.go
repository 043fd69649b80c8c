package signin

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// Authentication methods of a login (RFC 8176 "pop": proof of possession
// of a key).
var (
	browserAMR  = []string{"pop"}
	headlessAMR = []string{"pop", "headless"}
)

// RedeemRequest is a signed challenge presented without a browser.
type RedeemRequest struct {
	// Flow names the surface for the metrics: "dimo", "json", a profile's name.
	Flow string
	// Message is the signed text; Signature its signature (hex).
	Message, Signature string
	// Expect names what the caller already knows of the challenge.
	Expect siwe.Expect
	// Credentials are the client credentials the caller presented.
	Credentials httpapi.ClientCredentials
	// Profile marks a wire profile's request: a client's public wallet
	// login by design, which takes no client secret, whatever the
	// client's type (SPEC "Client authentication on the headless endpoints").
	Profile bool
}

// Redeem is a headless sign-in: it checks the signed message against its
// challenge, applies the client rules to the presented credentials, and
// issues tokens.
func (c *Core) Redeem(ctx context.Context, r RedeemRequest) (*oidc.AccessTokenResponse, error) {
	r.Expect.Headless = true
	res, err := c.check(ctx, r.Message, r.Signature, r.Expect)
	if err != nil {
		c.audit(ctx, r.Flow, r.Expect.ClientID, nil, err)
		return nil, err
	}
	return c.issue(ctx, r.Flow, res, r.Credentials, r.Profile)
}

// issue applies the client rules to a checked headless sign-in and issues
// its tokens, consuming its challenge in the transaction that stores them.
func (c *Core) issue(ctx context.Context, flow string, res *siwe.Result, creds httpapi.ClientCredentials, profile bool) (*oidc.AccessTokenResponse, error) {
	cl, err := c.client(ctx, res.Challenge.ClientID)
	if err != nil {
		return nil, err
	}
	if err := authorizeHeadless(cl, res.Account.Address, creds, profile); err != nil {
		c.audit(ctx, flow, cl.ID, res, err)
		return nil, err
	}
	agent, err := c.agent(ctx, cl, res)
	if err != nil {
		c.audit(ctx, flow, cl.ID, res, err)
		return nil, err
	}
	issued := time.Now()
	resp, err := c.Tokens.Issue(ctx, res.Challenge, c.login(ctx, res, headlessAMR, agent))
	c.audit(ctx, flow, cl.ID, res, err)
	if err != nil {
		return nil, err
	}
	c.Metrics.ObserveIssue(time.Since(issued))
	return resp, nil
}

// Complete is a browser sign-in: it checks the signature of the challenge
// the login page had signed, for the authorization request it was issued
// for, and completes that request. It returns where the browser goes next.
func (c *Core) Complete(ctx context.Context, authRequestID string, ch *siwe.Challenge, signature string) (string, error) {
	res, err := c.check(ctx, ch.Message, signature, siwe.Expect{Challenge: ch, AuthRequestID: authRequestID})
	if err != nil {
		c.audit(ctx, "browser", ch.ClientID, nil, err)
		return "", err
	}
	// The page signs the server's EIP-4361 text, which names no agent.
	next, err := c.Tokens.Complete(ctx, authRequestID, ch, c.login(ctx, res, browserAMR, nil))
	c.audit(ctx, "browser", ch.ClientID, res, err)
	return next, err
}

// check runs the SIWE verifier, which leaves the challenge unused: the
// Tokens method consumes it with what the sign-in stores.
func (c *Core) check(ctx context.Context, message, signature string, expect siwe.Expect) (*siwe.Result, error) {
	start := time.Now()
	res, err := c.Verifier.Check(ctx, message, signature, expect)
	c.Metrics.ObserveVerify(time.Since(start))
	return res, err
}

// audit records a sign-in's outcome in the metrics and, as an event, in the
// log: flow, client, account, result and the failed check, never a
// signature, message or token. A reused challenge or a refused check is
// the caller's doing ("rejected"); anything else that failed is Signet's.
func (c *Core) audit(ctx context.Context, flow, clientID string, res *siwe.Result, err error) {
	result := "success"
	e := httpapi.From(err)
	switch {
	case err == nil:
	case errors.Is(err, siwe.ErrChallengeReused) || e.ClientFault():
		result = "rejected"
	default:
		result = "error"
	}
	c.Metrics.Login(flow, result)
	attrs := []any{"event", "signin", "flow", flow, "client_id", clientID, "result", result, "request_id", httpapi.RequestID(ctx)}
	if res != nil {
		attrs = append(attrs, "sub", res.Account.Subject)
		if res.Signer != res.Address {
			attrs = append(attrs, "signer", res.Signer.Hex())
		}
	}
	if err != nil {
		attrs = append(attrs, "error", e.Code, "reason", e.Description)
	}
	c.Log.InfoContext(ctx, "sign-in", attrs...)
}

// authorizeHeadless applies SPEC's client rules to a headless sign-in of
// account (its address as its chain writes it) for cl: the client allows
// the headless APIs; a public client, or a wire profile, takes no secret; a
// developer license is authenticated by its signer's signature when the
// license itself signs in; any other confidential client authenticates as
// at the token endpoint (RFC 6749 §2.3.1).
func authorizeHeadless(cl *clients.Client, account string, creds httpapi.ClientCredentials, profile bool) error {
	switch {
	case cl.NoHeadless:
		return errNoHeadless
	case cl.Public, profile, cl.IsLicense() && account == cl.ID:
		return nil
	case !creds.Present || clients.NormalizeID(creds.ID) != cl.ID || !cl.CheckSecret(creds.Secret):
		return &httpapi.Error{Status: 401, Code: "invalid_client", Description: "client authentication failed: a confidential client sends its client_id and client_secret (HTTP Basic or in the body)"}
	}
	return nil
}

// Subject is the CAIP-10 account ID of an Ethereum account:
// eip155:<chainId>:<EIP-55 address>.
func Subject(chainID int64, address common.Address) string {
	return siwe.CAIP10(chainID, address)
}

// login turns a verified signature into the login record tokens refer to,
// with the agent that signed in, if any. When the app asked for the
// profile and a name resolver is configured, the account's primary ENS
// name is looked up once, here; a lookup that fails leaves the address as
// the username.
func (c *Core) login(ctx context.Context, res *siwe.Result, amr []string, agent *agents.Facts) *storage.Login {
	now := c.Now()
	signer := ""
	if res.Signer != res.Address {
		signer = res.Signer.Hex()
	}
	var name string
	// ENS names Ethereum accounts only.
	if c.Names != nil && !res.Challenge.IsStellar() && slices.Contains(res.Challenge.Scopes, oidc.ScopeProfile) {
		n, err := c.Names.Name(ctx, res.Address)
		if err != nil {
			c.Log.WarnContext(ctx, "ENS lookup failed; using the address as username", "request_id", httpapi.RequestID(ctx), "err", err)
		}
		name = n
	}
	l := &storage.Login{
		ID:        siwe.OrderedID(now, random.Base64(18)),
		Name:      name,
		Subject:   res.Account.Subject,
		Address:   ethereumAddress(res),
		ChainID:   res.ChainID,
		Signer:    signer,
		Message:   res.Message,
		Signature: res.SignatureHex,
		AMR:       amr,
		AuthTime:  now,
		ExpiresAt: now.Add(c.cfg.LoginTTL),
	}
	if agent != nil {
		l.AgentRegistry, l.AgentID, l.AgentVerified = agent.Agent.Registry.String(), agent.Agent.ID, agent.Verified
		l.AgentName, l.AgentServices = agent.Name, agent.Services
	}
	return l
}

// ethereumAddress is what a login stores as its Ethereum address: the
// EIP-55 address, or nothing for a Stellar account, whose address its
// CAIP-10 subject carries (the claims read it there).
func ethereumAddress(res *siwe.Result) string {
	if res.Challenge.IsStellar() {
		return ""
	}
	return res.Address.Hex()
}

// LicenseSigners implements siwe.Delegates: a developer license's
// registered signers may sign for the license itself, on its chain, and
// for nothing else.
type LicenseSigners struct{ Clients Clients }

var _ siwe.Delegates = LicenseSigners{}

// Delegates returns the signers of the license c is a challenge for, or none.
func (l LicenseSigners) Delegates(ctx context.Context, c *siwe.Challenge) ([]common.Address, error) {
	cl, err := l.Clients.Get(ctx, c.ClientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {
		return nil, nil
	}
	return cl.Signers, nil
}
