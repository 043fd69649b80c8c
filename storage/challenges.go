package storage

import (
	"context"
	"time"

	"github.com/signet-id/signet/siwe"
)

var _ siwe.Store = (*DB)(nil)

// SaveChallenge stores a freshly issued challenge.
func (db *DB) SaveChallenge(ctx context.Context, c *siwe.Challenge) error {
	return saveChallenge(ctx, db, c)
}

// ChallengeByID returns the challenge with the given ID.
func (db *DB) ChallengeByID(ctx context.Context, id string) (*siwe.Challenge, error) {
	return loadChallenge(ctx, db, "id", id)
}

// ChallengeByNonce returns the challenge with the given nonce.
func (db *DB) ChallengeByNonce(ctx context.Context, nonce string) (*siwe.Challenge, error) {
	return loadChallenge(ctx, db, "nonce", nonce)
}

// ConsumeChallenge marks a challenge used with one conditional UPDATE; of
// concurrent callers (on any replica) exactly one sees a changed row.
func (db *DB) ConsumeChallenge(ctx context.Context, id string, now time.Time) error {
	return db.consumeChallengeOn(ctx, db.gorm.ConnPool, id, now.UnixMilli())
}
