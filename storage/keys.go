package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SigningKey is a token-signing key pair as stored: the public JWK in clear,
// the private key sealed by the caller.
type SigningKey struct {
	ID         string
	Algorithm  string
	PublicJWK  []byte
	PrivateKey []byte
	CreatedAt  time.Time
	// ActiveAt is when the key starts signing; it is published before then.
	ActiveAt time.Time
	// RetiredAt is when a newer key took over; zero while current or upcoming.
	RetiredAt time.Time
	// DropAt is when the retired key leaves the JWKS.
	DropAt time.Time
}

// CreateSigningKey stores a new key.
func (db *DB) CreateSigningKey(ctx context.Context, k *SigningKey) error {
	return translate(db.gorm.WithContext(ctx).Create(keyRow(k)).Error)
}

// EnsureSigningKey stores k unless a key is usable at now (active by then
// and not dropped from the JWKS), and reports whether it stored k. Of
// callers racing on every replica, at most one stores its key: the check
// and the insert are one transaction, serialised by an advisory lock on
// PostgreSQL and by the write lock of SQLite's immediate transactions.
func (db *DB) EnsureSigningKey(ctx context.Context, k *SigningKey, now time.Time) (bool, error) {
	stored := false
	err := db.write(ctx, func(tx *gorm.DB) error {
		if db.driver == "postgres" {
			// Held until the transaction ends; a waiter's next statement
			// then sees the winner's key (READ COMMITTED).
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", firstKeyLock).Error; err != nil {
				return err
			}
		}
		var usable int64
		err := tx.Model(&signingKeyRow{}).
			Where("active_at <= ? AND (drop_at = 0 OR drop_at > ?)", now.UnixMilli(), now.UnixMilli()).
			Count(&usable).Error
		if err != nil || usable > 0 {
			return err
		}
		stored = true
		return tx.Create(keyRow(k)).Error
	})
	if err != nil {
		return false, translate(err)
	}
	return stored, nil
}

// keyRow is k as stored.
func keyRow(k *SigningKey) *signingKeyRow {
	return &signingKeyRow{
		ID:         k.ID,
		Algorithm:  k.Algorithm,
		PublicJWK:  k.PublicJWK,
		PrivateKey: k.PrivateKey,
		CreatedAt:  toMS(k.CreatedAt),
		ActiveAt:   toMS(k.ActiveAt),
		RetiredAt:  toMS(k.RetiredAt),
		DropAt:     toMS(k.DropAt),
	}
}

// SigningKeys returns every key not yet dropped from the JWKS at now, newest
// activation first.
func (db *DB) SigningKeys(ctx context.Context, now time.Time) ([]*SigningKey, error) {
	var rows []signingKeyRow
	err := db.read.WithContext(ctx).
		Where("drop_at = 0 OR drop_at > ?", now.UnixMilli()).
		Order("active_at DESC, id").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]*SigningKey, len(rows))
	for i, r := range rows {
		out[i] = &SigningKey{
			ID:         r.ID,
			Algorithm:  r.Algorithm,
			PublicJWK:  r.PublicJWK,
			PrivateKey: r.PrivateKey,
			CreatedAt:  fromMS(r.CreatedAt),
			ActiveAt:   fromMS(r.ActiveAt),
			RetiredAt:  fromMS(r.RetiredAt),
			DropAt:     fromMS(r.DropAt),
		}
	}
	return out, nil
}

// RetireSigningKeys marks every key activated before the given key's
// activation as retired at retiredAt, to be dropped from the JWKS at dropAt.
func (db *DB) RetireSigningKeys(ctx context.Context, before, retiredAt, dropAt time.Time) error {
	return db.gorm.WithContext(ctx).Model(&signingKeyRow{}).
		Where("active_at < ? AND retired_at = 0", before.UnixMilli()).
		Updates(map[string]any{"retired_at": toMS(retiredAt), "drop_at": toMS(dropAt)}).Error
}

// Setting returns a stored setting's value.
func (db *DB) Setting(ctx context.Context, name string) ([]byte, error) {
	var row settingRow
	if err := translate(db.read.WithContext(ctx).Where("name = ?", name).Take(&row).Error); err != nil {
		return nil, err
	}
	return row.Value, nil
}

// EnsureSetting stores value under name unless a value is already there, and
// returns the stored value; concurrent first starts agree on one value.
func (db *DB) EnsureSetting(ctx context.Context, name string, value []byte) ([]byte, error) {
	err := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&settingRow{Name: name, Value: value, CreatedAt: db.nowMS()}).Error
	if err != nil {
		return nil, translate(err)
	}
	return db.Setting(ctx, name)
}

// Claim records name once: it reports true to exactly one caller, across
// every replica, and false to all later ones. Replicas use it to elect who
// performs a scheduled task.
func (db *DB) Claim(ctx context.Context, name string) (bool, error) {
	res := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&settingRow{Name: name, Value: []byte{1}, CreatedAt: db.nowMS()})
	if res.Error != nil {
		return false, translate(res.Error)
	}
	return res.RowsAffected == 1, nil
}
