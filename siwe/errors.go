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

// Error is the one error type this package returns at its boundary.
type Error struct {
	// Code classifies the failure.
	Code Code
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

// invalidRequest returns a CodeInvalidRequest error.
func invalidRequest(description string, cause error) *Error {
	return &Error{Code: CodeInvalidRequest, Description: description, Err: cause}
}

// invalidGrant returns a CodeInvalidGrant error.
func invalidGrant(description string) *Error {
	return &Error{Code: CodeInvalidGrant, Description: description}
}

// unavailable returns a CodeUnavailable error wrapping the failed dependency's error.
func unavailable(description string, cause error) *Error {
	return &Error{Code: CodeUnavailable, Description: description, Err: cause}
}
