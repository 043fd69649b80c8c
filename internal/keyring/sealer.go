package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
)

// ErrWrongSecret reports that the configured secret does not open private
// material stored in the database: it was sealed under another secret.
var ErrWrongSecret = errors.New("the secret does not open the private keys stored in this database; use the secret they were sealed with")

// Sealer encrypts private material at rest with AES-256-GCM under a key
// derived (HKDF-SHA256) from the configured secret.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer derives the encryption key from secret.
func NewSealer(secret string) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("secret must be at least 32 characters")
	}
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, "signet private keys v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; the nonce is prepended.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open decrypts what Seal produced; it returns [ErrWrongSecret] when sealed
// was not sealed under this secret.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, ErrWrongSecret
	}
	return out, nil
}
