package siwe

import (
	"context"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/siwe/stellar"
)

// Challenge is a server-built EIP-4361 message waiting for its signature,
// or, for a Stellar account, a CAIP-122 ("Sign-In with X") message. The
// exact text that must be signed is kept in Message; verification hashes
// the submitted bytes and compares them with what was issued here.
type Challenge struct {
	// ID is an opaque handle (the "state" of the DIMO headless flow):
	// OrderedID's time prefix, then 32 random URL-safe characters.
	ID string
	// Nonce is the EIP-4361 nonce: OrderedID's time prefix, then 24 random
	// alphanumerics.
	Nonce string
	// Message is the exact EIP-4361 text to be signed.
	Message string
	// Address is the Ethereum account expected to sign (EIP-55 when
	// printed); zero for a Stellar account.
	Address common.Address
	// ChainID is the EIP-155 chain ID written into the message; zero for a
	// Stellar account, whose message names StellarChain.
	ChainID int64
	// Stellar is the Stellar account expected to sign (SEP-23 "G…"); the
	// zero Address for an Ethereum account. No one can sign for the zero
	// key, and Issue refuses it.
	Stellar stellar.Address
	// ByAccount lists the challenge under its client and account, so that a
	// surface whose verify request names a wallet and no nonce finds it
	// ("the wallet's open challenge"); every Stellar challenge is listed so.
	ByAccount bool
	// ClientID is the OAuth client the challenge was issued for.
	ClientID string
	// Scopes are the OAuth scopes requested alongside the challenge.
	Scopes []string
	// RedirectURI is the registered redirect URI named by a headless request ("domain" in DIMO's API).
	RedirectURI string
	// AuthRequestID is the browser authorization request the challenge completes, if any.
	AuthRequestID string
	// IssuedAt is the message's Issued At.
	IssuedAt time.Time
	// ExpiresAt is the message's Expiration Time.
	ExpiresAt time.Time
}

// IsStellar reports whether a Stellar account is to sign the challenge.
func (c *Challenge) IsStellar() bool { return c.Stellar != stellar.Address{} }

// Account is the address of the account to sign, as its chain writes it:
// the Stellar account ID, or the EIP-55 Ethereum address.
func (c *Challenge) Account() string {
	if c.IsStellar() {
		return c.Stellar.String()
	}
	return c.Address.Hex()
}

// Store keeps issued challenges and consumes them exactly once.
type Store interface {
	// SaveChallenge stores a freshly issued challenge.
	SaveChallenge(ctx context.Context, c *Challenge) error
	// ChallengeByID returns the challenge with the given ID or ErrChallengeNotFound.
	ChallengeByID(ctx context.Context, id string) (*Challenge, error)
	// ChallengeByNonce returns the challenge with the given nonce or ErrChallengeNotFound.
	ChallengeByNonce(ctx context.Context, nonce string) (*Challenge, error)
	// ConsumeChallenge marks the challenge used in one conditional write. It
	// returns ErrChallengeUsed when the challenge was already used (or is
	// unknown or expired at now), so that of two concurrent callers exactly one
	// succeeds.
	ConsumeChallenge(ctx context.Context, id string, now time.Time) error
}

// Store errors.
var (
	// ErrChallengeNotFound reports that no challenge matches.
	ErrChallengeNotFound = errors.New("siwe: challenge not found")
	// ErrChallengeUsed reports that a challenge was already consumed.
	ErrChallengeUsed = errors.New("siwe: challenge already used")
)
