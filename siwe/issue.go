package siwe

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	siwego "github.com/spruceid/siwe-go"

	"github.com/signet-id/signet/siwe/stellar"
)

// Lengths of the random parts of a challenge.
const (
	// nonceLength is the length of the nonce's random part in alphanumerics
	// (about 143 bits); the SPEC asks for at least 16, EIP-4361 for at least
	// 8. OrderedID puts the time, in ten more alphanumerics, before it.
	nonceLength = 24
	// idLength is the length of the challenge ID's random part, in URL-safe
	// characters (192 bits); OrderedID puts the time before it.
	idLength = 32
)

// IssueRequest asks for a challenge for one account and one OAuth request.
type IssueRequest struct {
	// Address is the account expected to sign, as hex in any letter case.
	Address string
	// ChainID is the EIP-155 chain ID to write into the message; zero means the first allowed one.
	ChainID int64
	// ClientID is the OAuth client the challenge is issued for.
	ClientID string
	// Scopes are the OAuth scopes requested alongside the challenge.
	Scopes []string
	// RedirectURI is the redirect URI named by a headless request.
	RedirectURI string
	// AuthRequestID is the browser authorization request the challenge completes, if any.
	AuthRequestID string
	// Statement is an optional human-readable line shown in the message.
	Statement string
	// Resources are optional URIs listed in the message.
	Resources []string
	// Stellar, if not zero, is the Stellar account expected to sign, in
	// place of Address: the challenge is a CAIP-122 message (see Challenge).
	Stellar stellar.Address
	// ByAccount lists the challenge under its client and account (see Challenge).
	ByAccount bool
}

// Issue builds a fresh EIP-4361 challenge for r (a CAIP-122 one for a
// Stellar account), stores it and returns it.
func (v *Verifier) Issue(ctx context.Context, r IssueRequest) (*Challenge, error) {
	if r.Stellar != (stellar.Address{}) {
		return v.issueStellar(ctx, r)
	}
	c, resources, err := v.newChallenge(r)
	if err != nil {
		return nil, err
	}
	if c.Message, err = v.write(c, r.Statement, resources); err != nil {
		return nil, err
	}
	if err := v.checkRoundTrip(c); err != nil {
		return nil, err
	}
	if err := v.save(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// save stores a freshly issued challenge.
func (v *Verifier) save(ctx context.Context, c *Challenge) error {
	if err := v.store.SaveChallenge(ctx, c); err != nil {
		return unavailable("challenge could not be stored", err)
	}
	return nil
}

// newChallenge validates r and draws a challenge's identity and times; its
// text is written next.
func (v *Verifier) newChallenge(r IssueRequest) (*Challenge, []url.URL, error) {
	if !common.IsHexAddress(r.Address) {
		return nil, nil, invalidRequest(CheckAddress, "address is not a valid Ethereum address", nil)
	}
	chainID := r.ChainID
	if chainID == 0 {
		chainID = v.cfg.ChainIDs[0]
	}
	if !slices.Contains(v.cfg.ChainIDs, chainID) {
		return nil, nil, invalidRequest(CheckChain, fmt.Sprintf("chain ID %d is not allowed", chainID), nil)
	}
	// EIP-4361: the statement is one line.
	if strings.ContainsAny(r.Statement, "\r\n") {
		return nil, nil, invalidRequest(CheckMessage, "statement must be a single line", nil)
	}
	resources := make([]url.URL, 0, len(r.Resources))
	for _, s := range r.Resources {
		u, err := url.Parse(s)
		if err != nil || s == "" || strings.ContainsAny(s, " \r\n") {
			return nil, nil, invalidRequest(CheckMessage, "resource is not a valid URI", err)
		}
		resources = append(resources, *u)
	}
	c, err := v.draw(r)
	if err != nil {
		return nil, nil, err
	}
	c.Address, c.ChainID = common.HexToAddress(r.Address), chainID
	return c, resources, nil
}

// draw gives a challenge for r its random nonce and ID and its times; its
// account and text come next.
func (v *Verifier) draw(r IssueRequest) (*Challenge, error) {
	randomNonce, err := v.randomString(nonceLength, alphanumeric)
	if err != nil {
		return nil, unavailable("challenge could not be created", err)
	}
	randomID, err := v.randomString(idLength, urlSafe)
	if err != nil {
		return nil, unavailable("challenge could not be created", err)
	}
	// EIP-4361: Issued At and Expiration Time are RFC 3339 date-times; we
	// write UTC with millisecond precision and store exactly those instants.
	issuedAt := v.now().UTC().Truncate(time.Millisecond)
	return &Challenge{
		ID: OrderedID(issuedAt, randomID),
		// The time before the nonce's random part keeps its unique index
		// appending; it is lowercase base-36, so the nonce stays
		// alphanumeric, and as hard to guess as its random part alone.
		Nonce:         OrderedID(issuedAt, randomNonce),
		ClientID:      r.ClientID,
		Scopes:        slices.Clone(r.Scopes),
		RedirectURI:   r.RedirectURI,
		AuthRequestID: r.AuthRequestID,
		ByAccount:     r.ByAccount,
		IssuedAt:      issuedAt,
		ExpiresAt:     issuedAt.Add(v.cfg.Lifetime),
	}, nil
}

// write is c's EIP-4361 text.
func (v *Verifier) write(c *Challenge, statement string, resources []url.URL) (string, error) {
	const layout = "2006-01-02T15:04:05.000Z07:00"
	options := map[string]any{
		"chainId":        int(c.ChainID),
		"issuedAt":       c.IssuedAt.Format(layout),
		"expirationTime": c.ExpiresAt.Format(layout),
	}
	if strings.TrimSpace(statement) != "" {
		options["statement"] = statement
	}
	if len(resources) > 0 {
		options["resources"] = resources
	}
	m, err := siwego.InitMessage(v.cfg.Domain, c.Address.Hex(), v.cfg.URI, c.Nonce, options)
	if err != nil {
		return "", invalidRequest(CheckMessage, "challenge could not be built from the request", err)
	}
	return m.String(), nil
}

// checkRoundTrip makes sure what we hand out passes our own parser, or it
// could never verify (e.g. a resource that siwe-go writes but does not
// read back).
func (v *Verifier) checkRoundTrip(c *Challenge) error {
	p, err := parseMessage(c.Message)
	if err != nil {
		return invalidRequest(CheckMessage, "statement or resources cannot be written into an EIP-4361 message", err)
	}
	if p.Nonce != c.Nonce || p.Address != c.Address || p.ChainID != c.ChainID || p.Domain != v.cfg.Domain || p.URI != v.cfg.URI {
		return invalidRequest(CheckMessage, "statement or resources cannot be written into an EIP-4361 message",
			fmt.Errorf("built message parses back differently: %q", c.Message))
	}
	return nil
}
