// Package random draws the random values Signet hands out: IDs, nonces,
// secrets and tokens.
package random

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// Base64 returns n random bytes from crypto/rand, base64url without padding.
func Base64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// String returns n characters drawn uniformly from alphabet (at most 256
// characters) out of r. Rejection sampling keeps every character equally
// likely: only bytes below the largest multiple of len(alphabet) are used.
func String(r io.Reader, n int, alphabet string) (string, error) {
	if len(alphabet) == 0 || len(alphabet) > 256 {
		return "", errors.New("random: alphabet must have 1 to 256 characters")
	}
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for rounds := 0; len(out) < n; rounds++ {
		if rounds == 64 {
			return "", errors.New("random: the source keeps returning unusable bytes")
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("random: read source: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
