package stellar

import (
	"errors"
	"fmt"
)

// Every error of this package wraps one of these; test with [errors.Is].
var (
	// ErrMalformedAddress reports a string that is not a Stellar account ID.
	ErrMalformedAddress = errors.New("stellar: malformed account ID")
	// ErrMalformedSignature reports a signature that cannot be read: not
	// hex, or not 64 bytes.
	ErrMalformedSignature = errors.New("stellar: malformed signature")
	// ErrWrongSigner reports a well-formed signature that the account's key
	// did not make over this message.
	ErrWrongSigner = errors.New("stellar: signature was not made by the account's key")
)

// refuse returns kind with a reason that says which rule failed.
func refuse(kind error, reason string) error {
	return fmt.Errorf("%w: %s", kind, reason)
}
