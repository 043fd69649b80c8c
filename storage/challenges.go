package storage

import (
	"context"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"gorm.io/gorm"

	"github.com/signet-id/signet/siwe"
)

var _ siwe.Store = (*DB)(nil)

// SaveChallenge stores a freshly issued challenge.
func (db *DB) SaveChallenge(ctx context.Context, c *siwe.Challenge) error {
	row := &challengeRow{
		ID:            c.ID,
		Nonce:         c.Nonce,
		Message:       c.Message,
		Address:       c.Address.Hex(),
		ChainID:       c.ChainID,
		ClientID:      c.ClientID,
		Scopes:        nonNil(c.Scopes),
		RedirectURI:   c.RedirectURI,
		AuthRequestID: c.AuthRequestID,
		IssuedAt:      toMS(c.IssuedAt),
		ExpiresAt:     toMS(c.ExpiresAt),
	}
	return translate(db.gorm.WithContext(ctx).Create(row).Error)
}

// ChallengeByID returns the challenge with the given ID.
func (db *DB) ChallengeByID(ctx context.Context, id string) (*siwe.Challenge, error) {
	return db.challengeWhere(ctx, "id = ?", id)
}

// ChallengeByNonce returns the challenge with the given nonce.
func (db *DB) ChallengeByNonce(ctx context.Context, nonce string) (*siwe.Challenge, error) {
	return db.challengeWhere(ctx, "nonce = ?", nonce)
}

func (db *DB) challengeWhere(ctx context.Context, cond string, arg string) (*siwe.Challenge, error) {
	var row challengeRow
	err := translate(db.read.WithContext(ctx).Where(cond, arg).Take(&row).Error)
	if err == ErrNotFound {
		return nil, siwe.ErrChallengeNotFound
	}
	if err != nil {
		return nil, err
	}
	return &siwe.Challenge{
		ID:            row.ID,
		Nonce:         row.Nonce,
		Message:       row.Message,
		Address:       common.HexToAddress(row.Address),
		ChainID:       row.ChainID,
		ClientID:      row.ClientID,
		Scopes:        row.Scopes,
		RedirectURI:   row.RedirectURI,
		AuthRequestID: row.AuthRequestID,
		IssuedAt:      fromMS(row.IssuedAt),
		ExpiresAt:     fromMS(row.ExpiresAt),
	}, nil
}

// ConsumeChallenge marks a challenge used with one conditional UPDATE; of
// concurrent callers (on any replica) exactly one sees a changed row.
func (db *DB) ConsumeChallenge(ctx context.Context, id string, now time.Time) error {
	return consumeChallenge(db.gorm.WithContext(ctx), id, now.UnixMilli())
}

func consumeChallenge(tx *gorm.DB, id string, nowMS int64) error {
	res := tx.Model(&challengeRow{}).
		Where("id = ? AND used_at = 0 AND expires_at > ?", id, nowMS).
		Update("used_at", nowMS)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return siwe.ErrChallengeUsed
	}
	return nil
}

// DeleteExpiredChallenges removes challenges that expired before the given time.
func (db *DB) DeleteExpiredChallenges(ctx context.Context, before time.Time) (int64, error) {
	res := db.gorm.WithContext(ctx).Where("expires_at < ?", before.UnixMilli()).Delete(&challengeRow{})
	return res.RowsAffected, translate(res.Error)
}
