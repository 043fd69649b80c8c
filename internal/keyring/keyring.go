// Package keyring keeps the token-signing keys: RSA-2048 keys created and
// stored in the database with their private halves sealed under a key
// derived from the operator's secret, published in the JWKS from before
// they sign until every token they signed has expired, rotated on command
// or on a schedule (one replica elected), and cached so that signing a
// token costs no database read.
package keyring

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/storage"
)

// Ring holds the token-signing keys: the current private key, decrypted
// once, and every public key still published. It reloads from the database
// at most every refresh interval, so rotations made elsewhere (the CLI,
// another replica) are picked up without a DB hit per token.
type Ring struct {
	db      *storage.DB
	sealer  *Sealer
	now     func() time.Time
	refresh time.Duration

	mu        sync.Mutex
	loadedAt  time.Time
	reloading bool
	keys      []*storage.SigningKey
	private   map[string]*rsa.PrivateKey
	public    []zop.Key
	jwks      []byte // the published key set, marshalled once per reload
	jwksETag  string

	// Log, when set, records each new key as an event.
	Log *slog.Logger
}

// New builds a key ring over the database's signing keys.
func New(db *storage.DB, sealer *Sealer, now func() time.Time, refresh time.Duration) *Ring {
	return &Ring{db: db, sealer: sealer, now: now, refresh: refresh, private: map[string]*rsa.PrivateKey{}}
}

// Ensure creates a first signing key when none is usable, and loads the
// keys. Replicas starting together on one database elect one first key
// (the database stores only one) and every one of them loads it before it
// serves: a replica signing with a key of its own would issue tokens that
// the others do not publish until their next reload.
//
// It fails with [ErrWrongSecret] when the ring's secret does not open the
// stored keys, so that a server on the wrong secret refuses to start rather
// than fail every sign-in.
func (k *Ring) Ensure(ctx context.Context) error {
	if err := k.CheckSecret(ctx); err != nil {
		return err
	}
	if err := k.reload(ctx); err != nil {
		return err
	}
	k.mu.Lock()
	_, ok := k.currentLocked()
	k.mu.Unlock()
	if ok {
		return nil
	}
	// The first key is active from a little before now, as nothing signed
	// before it: a replica that read its clock a moment earlier, or whose
	// clock is a little behind, then finds it usable too.
	key, err := k.newKey(k.now().Add(-firstKeyBackdate))
	if err != nil {
		return err
	}
	if _, err := k.db.EnsureSigningKey(ctx, key, k.now()); err != nil {
		return fmt.Errorf("store signing key: %w", err)
	}
	// Whether this replica's key or another's won, load the winner.
	return k.reload(ctx)
}

// firstKeyBackdate is how long before its creation a first signing key
// counts as active; it covers the clock differences between replicas.
const firstKeyBackdate = time.Minute

// List returns the keys still published, newest first.
func (k *Ring) List(ctx context.Context) ([]*storage.SigningKey, error) {
	return k.db.SigningKeys(ctx, k.now())
}

// create makes a key that starts signing at activeAt and stores it.
func (k *Ring) create(ctx context.Context, activeAt time.Time) (*storage.SigningKey, error) {
	key, err := k.newKey(activeAt)
	if err != nil {
		return nil, err
	}
	if err := k.db.CreateSigningKey(ctx, key); err != nil {
		return nil, fmt.Errorf("store signing key: %w", err)
	}
	return key, nil
}

// newKey makes a 2048-bit RSA key that starts signing at activeAt, its
// private half sealed.
func (k *Ring) newKey(activeAt time.Time) (*storage.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	kid, err := Thumbprint(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	if err != nil {
		return nil, err
	}
	sealed, err := k.sealer.Seal(x509.MarshalPKCS1PrivateKey(priv))
	if err != nil {
		return nil, err
	}
	return &storage.SigningKey{
		ID: kid, Algorithm: string(jose.RS256), PublicJWK: pub, PrivateKey: sealed,
		CreatedAt: k.now(), ActiveAt: activeAt,
	}, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of a public key, base64url.
func Thumbprint(pub *rsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// reload reads the keys from the database.
func (k *Ring) reload(ctx context.Context) error {
	keys, err := k.db.SigningKeys(ctx, k.now())
	if err != nil {
		return err
	}
	public := make([]zop.Key, 0, len(keys))
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(keys))}
	for _, sk := range keys {
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(sk.PublicJWK, &jwk); err != nil {
			return fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		pub, ok := jwk.Key.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("signing key %s is not RSA", sk.ID)
		}
		public = append(public, publicKey{id: sk.ID, key: pub})
		set.Keys = append(set.Keys, jwk)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(jwks)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys, k.public, k.loadedAt = keys, public, k.now()
	k.jwks, k.jwksETag = jwks, `"`+base64.RawURLEncoding.EncodeToString(sum[:16])+`"`
	return nil
}

// JWKS returns the published key set as JSON and its entity tag.
func (k *Ring) JWKS(ctx context.Context) ([]byte, string, error) {
	if err := k.fresh(ctx); err != nil {
		return nil, "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.jwks, k.jwksETag, nil
}

// currentLocked picks the newest key whose activation has come.
func (k *Ring) currentLocked() (*storage.SigningKey, bool) {
	now := k.now()
	for _, sk := range k.keys { // newest activation first
		if !sk.ActiveAt.After(now) {
			return sk, true
		}
	}
	return nil, false
}

// fresh reloads the keys when the cache is older than the refresh interval.
// One caller reloads; the others keep using the cache meanwhile (a first
// load is waited for by everyone).
func (k *Ring) fresh(ctx context.Context) error {
	k.mu.Lock()
	stale := k.now().Sub(k.loadedAt) >= k.refresh
	loaded := k.keys != nil
	if !stale || (k.reloading && loaded) {
		k.mu.Unlock()
		return nil
	}
	k.reloading = true
	k.mu.Unlock()
	err := k.reload(ctx)
	k.mu.Lock()
	k.reloading = false
	k.mu.Unlock()
	if err != nil && loaded {
		return nil // keep serving the cached keys; the next call retries
	}
	return err
}

// SigningKey returns the key that signs tokens now.
func (k *Ring) SigningKey(ctx context.Context) (zop.SigningKey, error) {
	if err := k.fresh(ctx); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	sk, ok := k.currentLocked()
	if !ok {
		return nil, errors.New("no active signing key")
	}
	priv, ok := k.private[sk.ID]
	if !ok {
		der, err := k.sealer.Open(sk.PrivateKey)
		if err != nil {
			return nil, err
		}
		priv, err = x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", sk.ID, err)
		}
		priv.Precompute()
		k.private[sk.ID] = priv
	}
	return signingKey{id: sk.ID, key: priv}, nil
}

// KeySet returns every published public key.
func (k *Ring) KeySet(ctx context.Context) ([]zop.Key, error) {
	if err := k.fresh(ctx); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.public, nil
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (s signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (s signingKey) Key() any                                    { return s.key }
func (s signingKey) ID() string                                  { return s.id }

type publicKey struct {
	id  string
	key *rsa.PublicKey
}

func (p publicKey) ID() string                         { return p.id }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return p.key }
