package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/storage"
)

// Rotate publishes a new key that starts signing after delay; older keys are
// retired then and leave the JWKS keep after that, when every token they
// signed has expired. It refuses, with [ErrWrongSecret], when the ring's
// secret does not open the stored keys: a key sealed under another secret
// than the servers' would break every sign-in once it starts signing.
func (k *Ring) Rotate(ctx context.Context, delay, keep time.Duration) (*storage.SigningKey, error) {
	if err := k.CheckSecret(ctx); err != nil {
		return nil, err
	}
	return k.rotate(ctx, delay, keep)
}

// rotate is Rotate once the secret is checked.
func (k *Ring) rotate(ctx context.Context, delay, keep time.Duration) (*storage.SigningKey, error) {
	activeAt := k.now().Add(delay)
	key, err := k.create(ctx, activeAt)
	if err != nil {
		return nil, err
	}
	if err := k.db.RetireSigningKeys(ctx, activeAt, activeAt, activeAt.Add(keep)); err != nil {
		return nil, err
	}
	if k.Log != nil {
		k.Log.InfoContext(ctx, "signing key rotated", "event", "key_rotated", "kid", key.ID, "active_at", key.ActiveAt, "older_keys_published_for", keep)
	}
	return key, k.reload(ctx)
}

// CheckSecret returns [ErrWrongSecret], naming what it could not open, unless
// the ring's secret opens every stored private key that signs now or will
// sign (retired keys are only published) and the stored crypto key, when
// there is one.
func (k *Ring) CheckSecret(ctx context.Context) error {
	now := k.now()
	keys, err := k.db.SigningKeys(ctx, now)
	if err != nil {
		return err
	}
	for _, sk := range keys {
		if !sk.RetiredAt.IsZero() && !sk.RetiredAt.After(now) {
			continue
		}
		if _, err := k.sealer.Open(sk.PrivateKey); err != nil {
			return fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
	}
	sealed, err := k.db.Setting(ctx, cryptoKeySetting)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := k.sealer.Open(sealed); err != nil {
		return fmt.Errorf("crypto key: %w", err)
	}
	return nil
}

// Retention is how long a retired key must stay published: the longest
// lifetime of a token it may have signed (defaults or any client's
// override), plus clock skew.
func Retention(ctx context.Context, reg *clients.Registry, accessTTL, idTTL time.Duration) (time.Duration, error) {
	keep := max(accessTTL, idTTL)
	list, err := reg.List(ctx)
	if err != nil {
		return 0, err
	}
	for _, c := range list {
		keep = max(keep, c.AccessTokenTTL, c.IDTokenTTL)
	}
	return keep + 5*time.Minute, nil
}

// RotateIfDue rotates when the newest key is older than every. Of several
// replicas calling it at once, exactly one rotates: they race to claim the
// newest key's rotation in the database. A replica whose secret does not
// open the stored keys fails with [ErrWrongSecret] before it claims, which
// leaves the rotation to the others.
func (k *Ring) RotateIfDue(ctx context.Context, every, delay, keep time.Duration) (*storage.SigningKey, error) {
	keys, err := k.db.SigningKeys(ctx, k.now())
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 || k.now().Sub(keys[0].ActiveAt) < every {
		return nil, nil
	}
	if err := k.CheckSecret(ctx); err != nil {
		return nil, err
	}
	won, err := k.db.Claim(ctx, "rotate-after:"+keys[0].ID)
	if err != nil || !won {
		return nil, err
	}
	return k.rotate(ctx, delay, keep)
}
