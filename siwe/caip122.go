package siwe

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/signet-id/signet/siwe/stellar"
)

// Stellar accounts sign in with a CAIP-122 ("Sign-In with X") message: the
// EIP-4361 text with "Stellar" for the blockchain's name and the CAIP-2
// reference of Stellar's public network as its Chain ID. Signet builds the
// text and accepts only that text back, byte for byte: there is no Stellar
// message parser to trust, and nothing an agent could want to add.

// StellarChain is the CAIP-2 reference of Stellar's public network
// (ChainAgnostic namespaces, stellar/caip2.md), the Chain ID of a Stellar
// challenge and the middle part of its CAIP-10 subject.
const StellarChain = "pubnet"

// stellarHeading ends the first line of a Stellar challenge (CAIP-122
// "${domain} wants you to sign in with your ${blockchain} account:").
const stellarHeading = " wants you to sign in with your Stellar account:"

// issueStellar builds, stores and returns a CAIP-122 challenge for the
// Stellar account r names.
func (v *Verifier) issueStellar(ctx context.Context, r IssueRequest) (*Challenge, error) {
	switch {
	// EIP-4361 (which CAIP-122 follows): the statement is one line.
	case strings.ContainsAny(r.Statement, "\r\n"):
		return nil, invalidRequest(CheckMessage, "statement must be a single line", nil)
	case len(r.Resources) > 0:
		return nil, invalidRequest(CheckMessage, "a Stellar challenge lists no resources", nil)
	}
	c, err := v.draw(r)
	if err != nil {
		return nil, err
	}
	c.Stellar, c.ByAccount = r.Stellar, true
	c.Message = v.writeStellar(c, r.Statement)
	if err := v.save(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// writeStellar is c's CAIP-122 text, in EIP-4361's layout (its ABNF: the
// address line, a blank line, an optional statement and a blank line, then
// the fields), without Not Before, Request ID or Resources.
func (v *Verifier) writeStellar(c *Challenge, statement string) string {
	const layout = "2006-01-02T15:04:05.000Z07:00"
	var b strings.Builder
	b.WriteString(v.cfg.Domain + stellarHeading + "\n" + c.Stellar.String() + "\n\n")
	if strings.TrimSpace(statement) != "" {
		b.WriteString(statement + "\n")
	}
	b.WriteString("\nURI: " + v.cfg.URI + "\nVersion: 1\nChain ID: " + StellarChain + "\nNonce: " + c.Nonce +
		"\nIssued At: " + c.IssuedAt.Format(layout) + "\nExpiration Time: " + c.ExpiresAt.Format(layout))
	return b.String()
}

// isStellarText reports whether text's first line is a Stellar challenge's.
func isStellarText(text string) bool {
	first, _, _ := strings.Cut(text, "\n")
	return strings.HasSuffix(first, stellarHeading)
}

// stellarChallenge returns the Stellar challenge that message is checked
// against: given, when the caller loaded one; else, for a text whose first
// line is a Stellar challenge's, the challenge its Nonce line names. It is
// nil for everything else, which is checked as EIP-4361 or SIWA.
func (v *Verifier) stellarChallenge(ctx context.Context, message string, given *Challenge) (*Challenge, error) {
	if given != nil {
		if given.IsStellar() {
			return given, nil
		}
		return nil, nil
	}
	if !isStellarText(message) {
		return nil, nil
	}
	nonce, _ := nonceLine(message)
	c, err := v.challengeByNonce(ctx, nonce)
	switch {
	case errors.Is(err, ErrChallengeNotFound) || (err == nil && (c == nil || c.Nonce != nonce)):
		return nil, invalidGrant(CheckNonce, "nonce was not issued by this server")
	case err != nil:
		return nil, unavailable("challenge store is unavailable", err)
	}
	return c, nil // an Ethereum challenge's text is not this one: checkStellar refuses it
}

// errNotChallengeText refuses a Stellar sign-in whose text is not its
// challenge's.
var errNotChallengeText = invalidGrant(CheckMessage, "message is not the text of its challenge: a Stellar account signs the server's message exactly as issued")

// checkStellar checks a Stellar account's signature over message for its
// challenge c; the challenge is left unused, as by Check.
func (v *Verifier) checkStellar(message, signature string, c *Challenge, expect Expect) (*Result, error) {
	if !expect.Stellar {
		return nil, invalidGrant(CheckNonce, "this challenge is a Stellar account's, which cannot sign in here")
	}
	if err := expect.check(c); err != nil {
		return nil, err
	}
	switch {
	case expect.Agent:
		return nil, invalidRequest(CheckMessage, "message is not a SIWA message (… wants you to sign in with your Agent account:)", nil)
	// CAIP-122 over a server-built challenge: the signed bytes are the issued text.
	case message != c.Message:
		return nil, errNotChallengeText
	// Server-side expiry: the stored challenge decides.
	case !v.now().Before(c.ExpiresAt):
		return nil, invalidGrant(CheckExpired, "challenge expired")
	}
	// Raw ed25519 (stellar_sdk's Keypair.sign) or SEP-53 over the exact bytes.
	if err := stellar.Verify(c.Stellar, []byte(message), signature); err != nil {
		if errors.Is(err, stellar.ErrMalformedSignature) {
			return nil, invalidRequest(CheckSignature, "signature is not a 64-byte ed25519 signature in hex", err)
		}
		return nil, &Error{Code: CodeInvalidGrant, Check: CheckSigner, Description: "signature does not match the address", Err: err}
	}
	// Verify read exactly the signature's bytes in hex, after an optional 0x.
	sig, _ := hex.DecodeString(signature[len(signature)-2*ed25519.SignatureSize:])
	return &Result{
		Challenge:    c,
		Message:      message,
		Signature:    sig,
		SignatureHex: "0x" + hex.EncodeToString(sig),
		Account:      accountOf(c, 0, c.Address),
	}, nil
}
