package signin

import (
	"context"
	"net/http"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/siwe/stellar"
)

// Accounts of two kinds sign in (SPEC "Non-EVM accounts"): Ethereum
// accounts, with EIP-4361 messages, through every surface, and Stellar
// accounts (ed25519, SEP-23 "G…"), with CAIP-122 messages, through the
// surfaces that take them (ChallengeRequest.Stellar): the JSON headless API
// and the dob profile. The browser login page, DIMO's API, developer
// licenses, contract wallets, ENS names and agents are Ethereum's.

// errNotEthereum is a malformed address where only Ethereum's are read.
var errNotEthereum = &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: "address is not a valid Ethereum address", Check: siwe.CheckAddress}

// strkeyLetters begin the strkeys of SEP-23's table of key types (and their
// lower case): an address that starts with one is read as Stellar's, so
// that a secret seed or a muxed account is refused in Stellar's words. No
// Ethereum address starts with one of them.
const strkeyLetters = "GSMCTXPLBgsmctxplb"

// ParseAccount reads an account address as a surface receives it: an
// Ethereum address (40 hex digits, 0x and any letter case allowed) or a
// Stellar account ID (SEP-23 "G…"). It returns the address as its chain
// writes it (EIP-55, or the strkey) and whether it is Stellar's. A
// malformed address is a 400 invalid_request that says what is wrong (a
// Stellar secret seed, a muxed account, a bad checksum) without echoing it.
func ParseAccount(address string) (canonical string, isStellar bool, err error) {
	if common.IsHexAddress(address) {
		return common.HexToAddress(address).Hex(), false, nil
	}
	if address == "" || !strings.ContainsRune(strkeyLetters, rune(address[0])) {
		return "", false, errNotEthereum
	}
	a, err := stellar.ParseAddress(address)
	if err != nil {
		// The package's errors are safe to show and never echo the input.
		reason := strings.TrimPrefix(err.Error(), stellar.ErrMalformedAddress.Error()+": ")
		return "", true, &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_request",
			Description: "address is not a Stellar account ID (G…): " + reason, Check: siwe.CheckAddress, Err: err}
	}
	return a.String(), true, nil
}

// RateKey is the address a per-address rate limit counts for address: its
// canonical form, or "" for a malformed one, which spends no address budget.
func RateKey(address string) string {
	canonical, _, err := ParseAccount(address)
	if err != nil {
		return ""
	}
	return canonical
}

// notForStellar refuses a Stellar account where Ethereum's rules alone
// apply. It names no check, so that every surface, the login page too,
// shows these words as they are.
func notForStellar(description string) error {
	return &httpapi.Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: description}
}

// issueStellar issues a CAIP-122 challenge for a Stellar account, on a
// surface that takes one, for a client it may sign in to.
func (c *Core) issueStellar(ctx context.Context, cl *clients.Client, r ChallengeRequest) (*siwe.Challenge, error) {
	canonical, isStellar, err := ParseAccount(r.Address)
	if err != nil {
		return nil, err
	}
	addr, _ := stellar.ParseAddress(canonical)
	switch {
	case !isStellar: // the caller sends Ethereum addresses elsewhere
		return nil, errNotEthereum
	case !r.Stellar || r.AuthRequest != nil:
		return nil, notForStellar("this sign-in takes Ethereum accounts only; a Stellar account signs in with the headless JSON API (/auth/nonce)")
	case cl.IsLicense():
		return nil, notForStellar("a developer-license client signs in with Ethereum accounts only")
	case r.Agent != nil:
		return nil, notForStellar("an ERC-8004 agent signs in with an Ethereum account")
	case r.ChainID != 0:
		return nil, notForStellar("chain_id names an EIP-155 chain; a Stellar account signs in on " + siwe.StellarChain)
	case addr == stellar.Address{}:
		return nil, notForStellar("no one can sign for the all-zero Stellar key")
	}
	return c.Verifier.Issue(ctx, siwe.IssueRequest{
		Stellar:     addr,
		ClientID:    cl.ID,
		Scopes:      headlessScopes(cl, r.Scope),
		RedirectURI: r.RedirectURI,
		Statement:   statementFor(cl.Name, "Stellar"),
	})
}
