package clients

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// secretBytes is the entropy of a client secret.
const secretBytes = 32

// secretHashPrefix names the hash function in a stored secret hash.
const secretHashPrefix = "sha256:"

// HashSecret returns the stored form of a client secret: "sha256:" and the hex
// SHA-256 digest; a fast hash suits 256-bit random secrets, which cannot be guessed.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return secretHashPrefix + hex.EncodeToString(sum[:])
}

// CheckSecret reports, in constant time, whether secret is the client's secret.
func (c *Client) CheckSecret(secret string) bool {
	if c.SecretHash == "" || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(c.SecretHash)) == 1
}

// newSecret draws a client secret: 32 random bytes, base64url without padding.
func newSecret(random io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("clients: generate client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
