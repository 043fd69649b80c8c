package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// ErrLimit reports that a write would pass a bound the caller set (the
// active API keys of one wallet and client).
var ErrLimit = errors.New("storage: limit reached")

// APIKey is a wallet's long-lived key for one client (SPEC "API keys"), as
// stored: the SHA-256 of the key, never the key, which only its holder has.
// Revoking or rotating a key sets RevokedAt, so the row stays as a record.
type APIKey struct {
	// ID is the public name of the key ("key_…").
	ID string
	// ClientID is the client the key is for; Subject the CAIP-10 account
	// that created it. Both bind the key: it acts for that wallet at that
	// client only.
	ClientID string
	Subject  string
	Label    string
	// Scopes are the API scopes the key was given.
	Scopes []string
	// Hash is the hex SHA-256 of the key.
	Hash      string
	CreatedAt time.Time
	// RevokedAt is when the key stopped working; zero while it works.
	RevokedAt time.Time
	// ReplacedBy names the key that replaced this one by rotation;
	// RotatedFrom, the key this one replaced.
	ReplacedBy  string
	RotatedFrom string
}

// Active reports whether the key has been neither revoked nor rotated away.
func (k *APIKey) Active() bool { return k.RevokedAt.IsZero() }

// apiKeyRow: the owner index serves the listing and the count of a
// wallet's active keys; the unique index on the hash serves every check of
// a key and makes a (never expected) clash of two keys an error.
type apiKeyRow struct {
	ID          string   `gorm:"primaryKey;size:64"`
	ClientID    string   `gorm:"size:128;not null;index:idx_api_keys_owner,priority:1"`
	Subject     string   `gorm:"size:128;not null;index:idx_api_keys_owner,priority:2"`
	Label       string   `gorm:"size:400;not null;default:''"`
	Scopes      []string `gorm:"serializer:json;type:text"`
	Hash        string   `gorm:"size:64;not null;uniqueIndex"`
	CreatedAt   int64    `gorm:"not null"`
	RevokedAt   int64    `gorm:"not null;default:0"`
	ReplacedBy  string   `gorm:"size:64;not null;default:''"`
	RotatedFrom string   `gorm:"size:64;not null;default:''"`
}

func (apiKeyRow) TableName() string { return "api_keys" }

// apiKeyLock is the class of PostgreSQL's transaction advisory locks on one
// wallet's keys for one client: two creations at once on two replicas
// would each count 99 active keys and both insert.
const apiKeyLock = "api_keys "

// CreateAPIKey stores a new key unless its wallet already has maxActive
// active keys for its client (ErrLimit). The count and the insert are one
// transaction, serialised per wallet and client by an advisory lock on
// PostgreSQL and by the write lock of SQLite's immediate transactions.
func (db *DB) CreateAPIKey(ctx context.Context, k *APIKey, maxActive int) error {
	return translate(db.write(ctx, func(tx *gorm.DB) error {
		if db.driver == "postgres" {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", apiKeyLock+k.ClientID+" "+k.Subject).Error; err != nil {
				return err
			}
		}
		var active int64
		err := tx.Model(&apiKeyRow{}).Where("client_id = ? AND subject = ? AND revoked_at = 0", k.ClientID, k.Subject).Count(&active).Error
		if err != nil {
			return err
		}
		if active >= int64(maxActive) {
			return ErrLimit
		}
		return tx.Create(apiKeyToRow(k)).Error
	}))
}

// APIKeyByHash returns the key whose SHA-256 is hash, active or not;
// ErrNotFound when there is none. It reads the database every time: a
// revocation on any replica is seen by the next check.
func (db *DB) APIKeyByHash(ctx context.Context, hash string) (*APIKey, error) {
	var row apiKeyRow
	if err := translate(db.read.WithContext(ctx).Where("hash = ?", hash).Take(&row).Error); err != nil {
		return nil, err
	}
	return rowToAPIKey(&row), nil
}

// ActiveAPIKeys returns a wallet's active keys for a client, oldest first.
// Revoked keys stay stored but are not listed: their number has no bound.
func (db *DB) ActiveAPIKeys(ctx context.Context, clientID, subject string) ([]*APIKey, error) {
	var rows []apiKeyRow
	err := db.read.WithContext(ctx).Where("client_id = ? AND subject = ? AND revoked_at = 0", clientID, subject).
		Order("created_at, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]*APIKey, len(rows))
	for i := range rows {
		out[i] = rowToAPIKey(&rows[i])
	}
	return out, nil
}

// RevokeAPIKey revokes the active key id of a wallet at a client, and the
// access tokens exchanged for it (their refresh family is the key's ID),
// in one transaction. ErrNotFound when that wallet has no such active key
// there: nobody revokes another wallet's or another client's keys.
func (db *DB) RevokeAPIKey(ctx context.Context, clientID, subject, id string) error {
	now := db.nowMS()
	return translate(db.write(ctx, func(tx *gorm.DB) error {
		return revokeAPIKeyIn(tx, clientID, subject, id, "", now)
	}))
}

// RotateAPIKey replaces a wallet's active key id with next in one
// transaction: the old key is revoked (with its exchanged tokens) and names
// next as its successor, and next is stored. Of concurrent rotations of one
// key exactly one succeeds; the others get ErrNotFound, as does a key that
// is not the wallet's or not active.
func (db *DB) RotateAPIKey(ctx context.Context, clientID, subject, id string, next *APIKey) error {
	now := db.nowMS()
	return translate(db.write(ctx, func(tx *gorm.DB) error {
		if err := revokeAPIKeyIn(tx, clientID, subject, id, next.ID, now); err != nil {
			return err
		}
		return tx.Create(apiKeyToRow(next)).Error
	}))
}

// revokeAPIKeyIn revokes an active key with one conditional write, which
// decides between concurrent revocations and rotations, then the tokens of
// its family.
func revokeAPIKeyIn(tx *gorm.DB, clientID, subject, id, replacedBy string, now int64) error {
	res := tx.Model(&apiKeyRow{}).Where("id = ? AND client_id = ? AND subject = ? AND revoked_at = 0", id, clientID, subject).
		Updates(map[string]any{"revoked_at": now, "replaced_by": replacedBy})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return tx.Model(&tokenRow{}).Where("family_id = ? AND family_id <> '' AND revoked_at = 0", id).Update("revoked_at", now).Error
}

func apiKeyToRow(k *APIKey) *apiKeyRow {
	return &apiKeyRow{
		ID: k.ID, ClientID: k.ClientID, Subject: k.Subject, Label: k.Label, Scopes: k.Scopes, Hash: k.Hash,
		CreatedAt: toMS(k.CreatedAt), RevokedAt: toMS(k.RevokedAt), ReplacedBy: k.ReplacedBy, RotatedFrom: k.RotatedFrom,
	}
}

func rowToAPIKey(r *apiKeyRow) *APIKey {
	return &APIKey{
		ID: r.ID, ClientID: r.ClientID, Subject: r.Subject, Label: r.Label, Scopes: r.Scopes, Hash: r.Hash,
		CreatedAt: fromMS(r.CreatedAt), RevokedAt: fromMS(r.RevokedAt), ReplacedBy: r.ReplacedBy, RotatedFrom: r.RotatedFrom,
	}
}
