package siwe

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Expect names the request a submitted message must belong to; empty fields are not checked.
type Expect struct {
	// ChallengeID, if set, must be the ID of the challenge the message's nonce names.
	ChallengeID string
	// Challenge, if set, is the challenge the caller already loaded (by its
	// ID); the message's nonce must be its nonce, and no second lookup is made.
	Challenge *Challenge
	// ClientID, if set, must be the client the challenge was issued for.
	ClientID string
	// AuthRequestID, if set, must be the authorization request the challenge was issued for.
	AuthRequestID string
	// Headless, if set, refuses challenges issued for a browser
	// authorization request: those complete only through their login page.
	Headless bool
	// URI, if set, is the EIP-4361 URI the message must carry instead of
	// the configured one: a wire profile's own endpoint under the issuer,
	// which the clients of the service it replaces sign.
	URI string
	// Agent, if set, refuses any message but a SIWA message.
	Agent bool
	// Stellar, if set, accepts a Stellar account's CAIP-122 challenge too;
	// a surface that leaves it unset takes Ethereum accounts only.
	Stellar bool
}

// Result describes a verified sign-in.
type Result struct {
	// Challenge is the consumed challenge.
	Challenge *Challenge
	// Message is the exact submitted text that was signed.
	Message string
	// Signature is the submitted signature.
	Signature []byte
	// SignatureHex is the signature as "0x" and lowercase hex.
	SignatureHex string
	// Account is the account that signed in, whatever its chain: its
	// CAIP-10 subject and its address.
	Account Account
	// Address is the Ethereum account that signed in (the message's
	// address); zero for a Stellar account.
	Address common.Address
	// Signer is the key that produced the signature; it equals Address for a plain account.
	Signer common.Address
	// ChainID is the EIP-155 chain ID of the message; zero for a Stellar account.
	ChainID int64
	// Agent is the ERC-8004 agent a SIWA message signs in as; nil for an
	// EIP-4361 message. Whether Address controls it is the caller's to check.
	Agent *Agent
}

// Verify checks a signed EIP-4361 message against the challenge that carries
// its nonce and, when every check passes, consumes that challenge.
//
// The message may be the challenge's own text or another EIP-4361 message with
// the challenge's nonce: its fields are compared, and the signature is checked
// over the exact submitted bytes. Failures are [*Error] values.
func (v *Verifier) Verify(ctx context.Context, message, signature string, expect Expect) (*Result, error) {
	res, err := v.Check(ctx, message, signature, expect)
	if err != nil {
		return nil, err
	}
	if err := v.Consume(ctx, res.Challenge); err != nil {
		return nil, err
	}
	return res, nil
}

// Consume marks a verified challenge used. Of concurrent callers, on any
// replica, exactly one succeeds; the others get an invalid_grant [*Error].
func (v *Verifier) Consume(ctx context.Context, c *Challenge) error {
	switch err := v.store.ConsumeChallenge(ctx, c.ID, v.now()); {
	case errors.Is(err, ErrChallengeUsed) || errors.Is(err, ErrChallengeNotFound):
		return ErrChallengeReused
	case err != nil:
		return unavailable("challenge store is unavailable", err)
	}
	return nil
}

// ErrChallengeReused is the answer to a second use of a challenge.
var ErrChallengeReused error = invalidGrant(CheckUsed, "challenge was already used")

// Check is [Verifier.Verify] without consuming the challenge: it checks
// everything else and leaves the challenge unused. The caller must consume
// Result.Challenge in the same transaction as whatever the sign-in grants
// (with [Verifier.Consume] or its store's conditional write), and grant
// nothing unless that consumption succeeds.
func (v *Verifier) Check(ctx context.Context, message, signature string, expect Expect) (*Result, error) {
	if message == "" {
		return nil, invalidRequest(CheckMessage, "message is empty", nil)
	}
	if len(message) > MaxMessageBytes {
		return nil, invalidRequest(CheckMessage, "message is longer than 16 KiB", nil)
	}
	if c, err := v.stellarChallenge(ctx, message, expect.Challenge); err != nil || c != nil {
		if err != nil {
			return nil, err
		}
		return v.checkStellar(message, signature, c, expect)
	}
	sig, err := parseSignature(signature)
	if err != nil {
		return nil, err
	}
	msg, c, err := v.find(ctx, message, expect.Challenge)
	if err != nil {
		return nil, err
	}
	if c.IsStellar() { // an EIP-4361 text that carries a Stellar challenge's nonce
		return nil, errNotChallengeText
	}
	if err := expect.check(c); err != nil {
		return nil, err
	}
	if expect.Agent && msg.Agent == nil {
		return nil, invalidRequest(CheckMessage, "message is not a SIWA message (… wants you to sign in with your Agent account:)", nil)
	}
	uri := v.cfg.URI
	if expect.URI != "" {
		uri = expect.URI
	}
	if err := v.checkFields(msg, c, uri, v.now()); err != nil {
		return nil, err
	}

	// EIP-191: the signature covers the exact submitted bytes, never a
	// re-serialisation of the parsed fields.
	signer, err := v.checkSignature(ctx, msg.ChainID, c, TextHash([]byte(message)), sig)
	if err != nil {
		return nil, err
	}

	// The challenge is consumed after every check (Verify, or the caller's
	// transaction), so that an invalid submission cannot burn it.
	return &Result{
		Challenge:    c,
		Message:      message,
		Signature:    sig,
		SignatureHex: "0x" + hex.EncodeToString(sig),
		Account:      accountOf(c, msg.ChainID, msg.Address),
		Address:      msg.Address,
		Signer:       signer,
		ChainID:      msg.ChainID,
		Agent:        msg.Agent,
	}, nil
}

// find parses message and finds the challenge its nonce names; c, when
// set, is the challenge the caller already loaded.
func (v *Verifier) find(ctx context.Context, message string, c *Challenge) (*parsedMessage, *Challenge, error) {
	var hint *Challenge
	msg, own := v.ownFields(message, c)
	if !own && c == nil {
		// An agent usually signs the server's text as it is: find the
		// challenge by the text's Nonce line, and if the text is that
		// challenge's own, byte for byte, there is nothing to parse.
		// Anything else is parsed in full, as below.
		if nonce, ok := nonceLine(message); ok {
			if found, err := v.challengeByNonce(ctx, nonce); err == nil && found != nil {
				if msg, own = v.ownFields(message, found); own {
					c = found
				} else {
					hint = found
				}
			}
		}
	}
	var err error
	switch {
	case own:
	case isSIWA(message):
		if msg, err = parseSIWA(message); err != nil {
			return nil, nil, invalidRequest(CheckMessage, "message is not a valid SIWA message", err)
		}
	default:
		if msg, err = parseMessage(message); err != nil {
			return nil, nil, invalidRequest(CheckMessage, "message is not a valid EIP-4361 message", err)
		}
	}
	switch {
	case c == nil && hint != nil && hint.Nonce == msg.Nonce:
		c = hint
	case c == nil:
		c, err = v.challengeByNonce(ctx, msg.Nonce)
	case c.Nonce != msg.Nonce:
		return nil, nil, invalidGrant(CheckNonce, "message nonce belongs to a different challenge")
	}
	switch {
	case errors.Is(err, ErrChallengeNotFound) || (err == nil && c == nil):
		return nil, nil, invalidGrant(CheckNonce, "nonce was not issued by this server")
	case err != nil:
		return nil, nil, unavailable("challenge store is unavailable", err)
	case c.Nonce != msg.Nonce: // a store must not match nonces case-insensitively
		return nil, nil, invalidGrant(CheckNonce, "nonce was not issued by this server")
	}
	return msg, c, nil
}

// checkSignature decides who signed hash for the challenge's account: one of
// its delegates (checked offline), else whatever the signature checker
// accepts (the account's own key, or a contract wallet or license contract
// through ERC-6492/ERC-1271). A key's signature may be 65 bytes or 64 in
// the compact form of EIP-2098; 64 bytes that no key of the account's made
// go to the checker as they came, since a contract wallet may sign in a
// format of its own. When a contract accepted a plain 65-byte signature,
// the key that made it is named as the signer.
func (v *Verifier) checkSignature(ctx context.Context, chainID int64, c *Challenge, hash common.Hash, sig []byte) (common.Address, error) {
	var recovered common.Address // the key that made sig, when it is a key's signature
	if isKeySignature(sig) {
		if key, err := Recover(hash, sig); err == nil {
			if key == c.Address {
				// The account's own key signed: nothing else to ask (an
				// address derived from a key is no deployed contract).
				return key, nil
			}
			recovered = key
		}
	}
	if v.delegates != nil && recovered != (common.Address{}) {
		ds, err := v.delegates.Delegates(ctx, c)
		if err != nil {
			return common.Address{}, unavailable("signer list is unavailable", err)
		}
		if slices.Contains(ds, recovered) {
			return recovered, nil
		}
	}
	signer, err := v.checker.CheckSignature(ctx, chainID, c.Address, hash, sig)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e != nil {
			return common.Address{}, e
		}
		return common.Address{}, unavailable("signature could not be checked", err)
	}
	// Only 65 bytes name their key: 64 may be a contract's own format (a
	// P-256 passkey's r and s), which ecrecover turns into a meaningless
	// address.
	if signer == c.Address && len(sig) == crypto.SignatureLength && recovered != (common.Address{}) {
		signer = recovered
	}
	return signer, nil
}

// check compares the challenge with what the caller expects.
func (e Expect) check(c *Challenge) *Error {
	switch {
	case e.ChallengeID != "" && e.ChallengeID != c.ID:
		return invalidGrant(CheckNonce, "message nonce belongs to a different challenge")
	case e.ClientID != "" && e.ClientID != c.ClientID:
		return invalidGrant(CheckNonce, "challenge was issued to a different client")
	case e.AuthRequestID != "" && e.AuthRequestID != c.AuthRequestID:
		return invalidGrant(CheckNonce, "challenge was issued for a different authorization request")
	case e.Headless && c.AuthRequestID != "":
		return invalidGrant(CheckNonce, "challenge belongs to a browser sign-in")
	}
	return nil
}

// checkFields applies the EIP-4361 field rules of the SPEC to a parsed
// message (EIP-4361 or SIWA) and the challenge its nonce names, at time
// now; uri is the URI the message must carry.
func (v *Verifier) checkFields(m *parsedMessage, c *Challenge, uri string, now time.Time) *Error {
	skew := v.cfg.Skew
	switch {
	// EIP-4361 domain: the authority that asks for the sign-in, ours.
	case m.Domain != v.cfg.Domain:
		return invalidGrant(CheckDomain, "message domain does not match this server")
	// EIP-4361 uri: the subject of the signing, our issuer URL.
	case m.URI != uri:
		return invalidGrant(CheckDomain, "message URI does not match this server")
	// EIP-4361 version: must be 1.
	case m.Version != "1":
		return invalidGrant(CheckMessage, "message version must be 1")
	// EIP-4361 chain-id (EIP-155): one we allow, and the challenge's.
	case !slices.Contains(v.cfg.ChainIDs, m.ChainID):
		return invalidGrant(CheckChain, "message chain ID is not allowed")
	case m.ChainID != c.ChainID:
		return invalidGrant(CheckChain, "message chain ID does not match the challenge")
	// EIP-4361 address: the account the challenge was issued for.
	case m.Address != c.Address:
		return invalidGrant(CheckAddress, "message address does not match the challenge")
	// Server-side expiry: the stored challenge decides, whatever the message says.
	case !now.Before(c.ExpiresAt):
		return invalidGrant(CheckExpired, "challenge expired")
	// EIP-4361 expiration-time: the message must not be used after it.
	case m.ExpirationTime != nil && m.ExpirationTime.Before(now.Add(-skew)):
		return invalidGrant(CheckExpired, "message Expiration Time has passed")
	// EIP-4361 not-before: the message must not be used before it.
	case m.NotBefore != nil && m.NotBefore.After(now.Add(skew)):
		return invalidGrant(CheckExpired, "message Not Before is in the future")
	// EIP-4361 issued-at: a message cannot be issued in the future.
	case m.IssuedAt.After(now.Add(skew)):
		return invalidGrant(CheckExpired, "message Issued At is in the future")
	}
	return nil
}
