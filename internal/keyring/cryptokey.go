package keyring

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/signet-id/signet/storage"
)

// cryptoKeySetting names the stored, sealed zitadel crypto key.
const cryptoKeySetting = "op_crypto_key"

// LoadCryptoKey returns the provider's persistent crypto key, creating it on
// first start; every replica reads the same key.
func LoadCryptoKey(ctx context.Context, db *storage.DB, sealer *Sealer) ([32]byte, error) {
	var key [32]byte
	fresh := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, fresh); err != nil {
		return key, err
	}
	sealed, err := sealer.Seal(fresh)
	if err != nil {
		return key, err
	}
	stored, err := db.EnsureSetting(ctx, cryptoKeySetting, sealed)
	if err != nil {
		return key, fmt.Errorf("load crypto key: %w", err)
	}
	plain, err := sealer.Open(stored)
	if err != nil {
		return key, err
	}
	if len(plain) != 32 {
		return key, errors.New("stored crypto key has the wrong length")
	}
	copy(key[:], plain)
	return key, nil
}
