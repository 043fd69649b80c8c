package signin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

// Some wallet logins verify a signature with the wallet's address and no
// nonce (dob's POST /api/agent/auth/verify {wallet_address, signature,
// chain}): the server signs the wallet in with "its open challenge". Here
// that is a challenge issued with ChallengeRequest.ByAccount for the client
// and the wallet, unexpired and unused, and the one the signature was made
// over: the newest such challenges are tried, newest first.
//
// Choosing by the signature, rather than taking the newest alone, keeps the
// owner's sign-in working when someone else asks for a nonce for the same
// (public) address in between: that challenge is newer, but the owner did
// not sign it. Older challenges are not voided when a new one is issued, for
// the same reason: voiding is a write that anyone who knows the address
// could make, and it would end the owner's pending sign-in. They expire by
// themselves, and each is consumed at most once.

// OpenChallenges lists a wallet's open challenges at a client, newest
// first; *storage.DB is one.
type OpenChallenges interface {
	OpenChallenges(ctx context.Context, clientID, account string, now time.Time, limit int) ([]*siwe.Challenge, error)
}

// maxOpen bounds the open challenges one verify request tries: each costs a
// signature check, and a caller's nonce requests for an address are rate
// limited, so an owner's challenge is found unless several were issued for
// its address since.
const maxOpen = 8

// OpenRequest is a signature over a wallet's open challenge at a client.
type OpenRequest struct {
	// Flow names the surface for the metrics and the audit log.
	Flow string
	// ClientID is the client the profile serves.
	ClientID string
	// Account is the wallet: an Ethereum address or a Stellar account ID.
	Account string
	// Signature is the signature over the challenge's text (hex).
	Signature string
}

// errNoOpen answers a signature for a wallet that has no open challenge at
// the client: never asked, used, or expired.
var errNoOpen = &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_grant", Check: siwe.CheckNonce,
	Description: "this wallet has no open challenge at this client (each is used once and expires): ask for a new nonce"}

// RedeemOpen is a headless sign-in over the wallet's open challenge at a
// wire profile's client: the newest of its open challenges that the
// signature was made over is checked by every rule of Redeem and consumed
// with the tokens it earns.
func (c *Core) RedeemOpen(ctx context.Context, r OpenRequest) (*oidc.AccessTokenResponse, error) {
	account, _, err := ParseAccount(r.Account)
	if err != nil {
		return nil, err
	}
	if c.Open == nil {
		return nil, errors.New("signin: no store of open challenges")
	}
	open, err := c.Open.OpenChallenges(ctx, r.ClientID, account, c.Now(), maxOpen)
	if err != nil {
		return nil, err
	}
	var first error = errNoOpen
	for i, ch := range open {
		res, err := c.check(ctx, ch.Message, r.Signature, siwe.Expect{Challenge: ch, ClientID: r.ClientID, Headless: true, Stellar: true})
		if err == nil {
			return c.issue(ctx, r.Flow, res, httpapi.ClientCredentials{}, true)
		}
		if i == 0 || !httpapi.From(err).ClientFault() { // the newest's words, or Signet's own failure
			first = err
		}
		if !signedAnother(err) {
			break
		}
	}
	c.audit(ctx, r.Flow, r.ClientID, nil, first)
	return nil, first
}

// signedAnother reports whether err leaves the signature possibly good for
// an older open challenge: it was readable but not made over this one (or
// this one expired meanwhile).
func signedAnother(err error) bool {
	e := httpapi.From(err)
	return e.Code == "invalid_grant" && (e.Check == siwe.CheckSigner || e.Check == siwe.CheckExpired)
}
