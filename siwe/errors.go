package siwe

import "fmt"

// Code classifies an [Error] so that callers can answer with the matching
// OAuth error (RFC 6749 §5.2) without looking at its text.
type Code int

// Error codes.
const (
	// CodeInvalidRequest reports malformed input (RFC 6749 §5.2 invalid_request).
	CodeInvalidRequest Code = iota + 1
	// CodeInvalidGrant reports a bad, expired, used or mismatched challenge or
	// signature (RFC 6749 §5.2 invalid_grant).
	CodeInvalidGrant
	// CodeUnavailable reports that a dependency (a database, an RPC node) failed.
	CodeUnavailable
)

// String returns the code's name in OAuth style, e.g. "invalid_grant".
func (c Code) String() string {
	switch c {
	case CodeInvalidRequest:
		return "invalid_request"
	case CodeInvalidGrant:
		return "invalid_grant"
	case CodeUnavailable:
		return "unavailable"
	default:
		return fmt.Sprintf("Code(%d)", int(c))
	}
}

// Check names the rule a rejected sign-in failed, so that each surface can
// say it in its own words (the login page to a person, a profile with its
// own status codes) without reading the description.
type Check int

// Checks. CheckNone is for errors that name no single check.
const (
	CheckNone Check = iota
	// CheckMessage: the message or signature could not be read.
	CheckMessage
	// CheckNonce: the nonce is not one this server issued, or belongs to another request.
	CheckNonce
	// CheckUsed: the challenge was already used.
	CheckUsed
	// CheckExpired: the challenge or the message has expired, or is not valid yet.
	CheckExpired
	// CheckDomain: the message's domain or URI is not this server's.
	CheckDomain
	// CheckChain: the chain is not allowed, or not the challenge's.
	CheckChain
	// CheckAddress: the message names another account than the challenge.
	CheckAddress
	// CheckSignature: the signature cannot be read (not hex, a wrong
	// length, not a valid secp256k1 signature).
	CheckSignature
	// CheckSigner: a valid signature, made by another key than the account's.
	CheckSigner
	// CheckContractWallet: the account's contract wallet refused the signature.
	CheckContractWallet
	// CheckNoRPC: a contract-wallet signature on a chain without an RPC endpoint.
	CheckNoRPC
	// CheckAgentRegistry: the agent's ERC-8004 registry is not one the client allows.
	CheckAgentRegistry
	// CheckAgentNotRegistered: the registry has no agent with that ID.
	CheckAgentNotRegistered
	// CheckAgentNotOwner: the account that signed is neither the agent's
	// owner nor its agent wallet.
	CheckAgentNotOwner
	// CheckAgentOffline: the registry's chain cannot be read, and the client
	// does not accept agents verified offline.
	CheckAgentOffline
)

// Error is the one error type this package returns at its boundary.
type Error struct {
	// Code classifies the failure.
	Code Code
	// Check names the rule that failed, when one did.
	Check Check
	// Description says which check failed; it is safe to show to a client.
	Description string
	// Err is the internal cause, if any; it must never be shown to a client.
	Err error
}

// Error returns the code, the description and the internal cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("siwe: %s: %s: %v", e.Code, e.Description, e.Err)
	}
	return fmt.Sprintf("siwe: %s: %s", e.Code, e.Description)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// invalidRequest returns a CodeInvalidRequest error for the failed check.
func invalidRequest(check Check, description string, cause error) *Error {
	return &Error{Code: CodeInvalidRequest, Check: check, Description: description, Err: cause}
}

// invalidGrant returns a CodeInvalidGrant error for the failed check.
func invalidGrant(check Check, description string) *Error {
	return &Error{Code: CodeInvalidGrant, Check: check, Description: description}
}

// unavailable returns a CodeUnavailable error wrapping the failed dependency's error.
func unavailable(description string, cause error) *Error {
	return &Error{Code: CodeUnavailable, Description: description, Err: cause}
}
