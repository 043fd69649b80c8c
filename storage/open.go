package storage

import (
	"context"
	"time"

	"github.com/signet-id/signet/siwe"
)

// insertListedChallengeSQL stores a challenge listed under its account
// (siwe.Challenge ByAccount, and every Stellar challenge, whose account the
// address column cannot hold): insertChallengeSQL and the account. Other
// challenges leave the column empty, outside its partial index.
const insertListedChallengeSQL = `INSERT INTO challenges (id, nonce, message, address, chain_id, client_id, scopes, redirect_uri, auth_request_id, issued_at, expires_at, used_at, account)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)`

// openChallengesSQL lists a wallet's open challenges at a client, newest
// first. It repeats the partial index's condition (an account not empty) so that
// the planner uses that index for a parameter it cannot see; the index
// holds only challenges listed by account, so the hot path of every other
// sign-in writes nothing to it.
const openChallengesSQL = `SELECT ` + challengeColumns + ` FROM challenges
WHERE account = $1 AND account <> '' AND client_id = $2 AND used_at = 0 AND expires_at > $3 AND COALESCE(auth_request_id, '') = ''
ORDER BY issued_at DESC, id DESC LIMIT $4`

// OpenChallenges returns the challenges listed under account (siwe.Challenge
// ByAccount) that were issued for clientID and for no browser request, and
// are neither used nor expired at now: the newest first, at most limit.
// account is written as its chain writes it (EIP-55, or a Stellar "G…").
// Whether one of them is used is decided again when it is consumed.
func (db *DB) OpenChallenges(ctx context.Context, clientID, account string, now time.Time, limit int) ([]*siwe.Challenge, error) {
	if account == "" || limit <= 0 {
		return nil, nil
	}
	rows, err := db.read.ConnPool.QueryContext(ctx, openChallengesSQL, account, clientID, now.UnixMilli(), limit)
	if err != nil {
		return nil, db.failed(err)
	}
	defer rows.Close()
	var out []*siwe.Challenge
	for rows.Next() {
		c, err := scanChallenge(rows.Scan)
		if err != nil {
			return nil, db.failed(err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, db.failed(err)
	}
	return out, nil
}
