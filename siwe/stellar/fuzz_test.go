package stellar

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// The seed corpora are in testdata/fuzz: published account IDs and strkeys
// of other kinds for FuzzParseAddress, and the SEP-53 test cases (raw and
// SEP-53 signatures by the SEP-53 key) with malformed signatures for
// FuzzVerify.

// FuzzParseAddress checks that ParseAddress never panics, refuses only with
// ErrMalformedAddress, and accepts only canonical strkeys: what it accepts
// encodes back to the same string.
func FuzzParseAddress(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedAddress) {
				t.Fatalf("ParseAddress(%q) = %v, not an ErrMalformedAddress", s, err)
			}
			return
		}
		if got := a.String(); got != s {
			t.Fatalf("ParseAddress(%q) accepted a non-canonical strkey of %s", s, got)
		}
		if got := CAIP10(a); got != "stellar:pubnet:"+s {
			t.Fatalf("CAIP10 = %q", got)
		}
	})
}

// FuzzVerify checks, for the SEP-53 key, that Verify never panics, calls a
// signature malformed exactly when it is not 64 bytes of hex, and that a
// signature it accepts proves nothing for another message.
func FuzzVerify(f *testing.F) {
	addr := mustParse(f, sep53Address)
	f.Fuzz(func(t *testing.T, message []byte, signature string) {
		err := Verify(addr, message, signature)
		digits := signature
		if len(digits) >= 2 && digits[0] == '0' && strings.ContainsRune("xX", rune(digits[1])) {
			digits = digits[2:]
		}
		_, hexErr := hex.DecodeString(digits)
		readable := len(digits) == 128 && hexErr == nil
		switch {
		case errors.Is(err, ErrMalformedSignature):
			if readable {
				t.Fatalf("Verify(%q) called a readable signature malformed: %v", signature, err)
			}
		case !readable:
			t.Fatalf("Verify(%q) = %v, want ErrMalformedSignature", signature, err)
		case errors.Is(err, ErrWrongSigner):
		case err != nil:
			t.Fatalf("Verify = %v, of neither kind", err)
		default:
			if err := Verify(addr, append(message, 0), signature); err != ErrWrongSigner {
				t.Fatalf("a signature over %q also verifies over another message: %v", message, err)
			}
		}
	})
}
