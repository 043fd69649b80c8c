package storage

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// Token kinds.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// Token is an issued access or refresh token. Access tokens are stored by
// their JWT ID; refresh tokens by the SHA-256 of their value, so a database
// leak does not hand out usable refresh tokens.
type Token struct {
	ID       string
	Kind     string
	ClientID string
	Subject  string
	Audience []string
	Scopes   []string
	LoginID  string
	// AuthRequestID links tokens to the authorization code they came from.
	AuthRequestID string
	// FamilyID groups a refresh token with its rotations and their access tokens.
	FamilyID string
	// RefreshTokenID is, for an access token, the refresh token issued beside it.
	RefreshTokenID string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time
	RevokedAt      time.Time
	// Login is loaded by TokenByID.
	Login *Login
}

// Active reports whether the token may still be used at now.
func (t *Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) && (t.Kind != KindRefresh || t.UsedAt.IsZero())
}

// TokenWrite is what one token issuance stores.
type TokenWrite struct {
	// CodeOf names the authorization request whose code this issuance
	// redeems, if any: it is consumed in the same transaction.
	CodeOf string
	// Challenge names the SIWE challenge this issuance redeems (headless
	// sign-in), if any: it is consumed in the same transaction, and if it was
	// already used or has expired, nothing is stored and the error is
	// siwe.ErrChallengeUsed.
	Challenge string
	// Login, if set, is a new login stored with the tokens (headless sign-in).
	Login *Login
	// Access is the access token; Refresh the optional refresh token.
	Access  *Token
	Refresh *Token
}

// CreateTokens stores one issuance in one transaction. When CodeOf is set,
// the code is consumed with one conditional write: of two concurrent
// exchanges of one code exactly one stores tokens, the other gets ErrReused.
func (db *DB) CreateTokens(ctx context.Context, w TokenWrite) error {
	now := db.nowMS()
	if db.driver == "postgres" && (w.CodeOf == "") != (w.Challenge == "") {
		return db.writeTokensOnce(ctx, w, now)
	}
	return db.write(ctx, func(tx *gorm.DB) error {
		return db.writeTokens(ctx, tx.Statement.ConnPool, w, now)
	})
}

// RotateRefreshToken consumes refresh token oldID with one conditional write
// and stores its successors in the same transaction. A token that was
// already used, revoked or expired returns ErrReused and revokes its whole
// family (OAuth 2.0 Security BCP §4.14: refresh token reuse detection).
func (db *DB) RotateRefreshToken(ctx context.Context, oldID string, access, refresh *Token) error {
	now := db.nowMS()
	var reused string
	err := db.write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&tokenRow{}).
			Where("id = ? AND kind = ? AND used_at = 0 AND revoked_at = 0 AND expires_at > ?", oldID, KindRefresh, now).
			Update("used_at", now)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected != 1 {
			var old tokenRow
			if err := translate(tx.Where("id = ? AND kind = ?", oldID, KindRefresh).Take(&old).Error); err != nil {
				return err
			}
			reused = old.FamilyID
			return ErrReused
		}
		return db.insertTokens(ctx, tx.Statement.ConnPool, access, refresh)
	})
	if err == ErrReused && reused != "" {
		if rerr := db.RevokeFamily(ctx, reused); rerr != nil {
			return rerr
		}
	}
	return translate(err)
}

// TokenByID returns a token with its login.
func (db *DB) TokenByID(ctx context.Context, id string) (*Token, error) {
	var row tokenRow
	if err := translate(db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error); err != nil {
		return nil, err
	}
	t := rowToToken(&row)
	l, err := db.Login(ctx, row.LoginID)
	if err != nil {
		return nil, err
	}
	t.Login = l
	return t, nil
}

// RevokeToken revokes one token; a refresh token takes its family with it
// (RFC 7009 §2.1 allows revoking related tokens).
func (db *DB) RevokeToken(ctx context.Context, id string) error {
	var row tokenRow
	if err := translate(db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error); err != nil {
		return err
	}
	if row.Kind == KindRefresh && row.FamilyID != "" {
		return db.RevokeFamily(ctx, row.FamilyID)
	}
	return db.revokeWhere(ctx, "id = ?", id)
}

// RevokeFamily revokes every token of a refresh family.
func (db *DB) RevokeFamily(ctx context.Context, familyID string) error {
	return db.revokeWhere(ctx, "family_id = ? AND family_id <> ''", familyID)
}

// RevokeAuthRequestTokens revokes every token issued from one authorization
// request, and everything refreshed from them.
func (db *DB) RevokeAuthRequestTokens(ctx context.Context, authRequestID string) error {
	var families []string
	if err := db.gorm.WithContext(ctx).Model(&tokenRow{}).
		Where("auth_request_id = ? AND auth_request_id <> '' AND family_id <> ''", authRequestID).
		Distinct().Pluck("family_id", &families).Error; err != nil {
		return err
	}
	if err := db.revokeWhere(ctx, "auth_request_id = ? AND auth_request_id <> ''", authRequestID); err != nil {
		return err
	}
	if len(families) > 0 {
		return db.revokeWhere(ctx, "family_id IN ? AND family_id <> ''", families)
	}
	return nil
}

// RevokeSubjectTokens revokes every token a client holds for a subject
// (end of session).
func (db *DB) RevokeSubjectTokens(ctx context.Context, subject, clientID string) error {
	return db.revokeWhere(ctx, "subject = ? AND client_id = ?", subject, clientID)
}

func (db *DB) revokeWhere(ctx context.Context, cond string, args ...any) error {
	return db.gorm.WithContext(ctx).Model(&tokenRow{}).
		Where(cond+" AND revoked_at = 0", args...).
		Update("revoked_at", db.nowMS()).Error
}

// sweepLoginsWhere picks the expired logins that nothing refers to any
// more. Each runs on SQLite's one write connection, so neither subquery may
// scan a table per login: the tokens one probes tokens' login_id index, and
// the auth_requests one (a small table: requests expire in minutes) is read
// once into a list (TestSweepOfLoginsScansNoTablePerLogin holds both;
// docs/performance.md has what a scan per login cost).
const sweepLoginsWhere = "expires_at < ? AND NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.login_id = logins.id)" +
	" AND id NOT IN (SELECT login_id FROM auth_requests WHERE login_id IS NOT NULL)" +
	" AND id NOT IN (SELECT login_id FROM sessions)"

// sweepChunk bounds the rows one sweep statement deletes. On SQLite each
// statement holds the one write connection; between statements the queued
// sign-in writes run, so a sweep of a busy minute never stalls them for
// more than one chunk's delete.
const sweepChunk = 1000

// sweepStatement deletes up to sweepChunk rows of table that match where.
func sweepStatement(table, where string) string {
	return "DELETE FROM " + table + " WHERE id IN (SELECT id FROM " + table + " WHERE " + where +
		" LIMIT " + strconv.Itoa(sweepChunk) + ")"
}

// Sweep deletes what can no longer be used: expired challenges, auth
// requests, tokens and the logins no token refers to.
func (db *DB) Sweep(ctx context.Context, now time.Time) (int64, error) {
	ms := now.UnixMilli()
	var total int64
	for _, s := range []struct {
		table, where string
		args         []any
	}{
		{"challenges", "expires_at < ?", []any{ms}},
		{"auth_requests", "expires_at < ? AND code_expires_at < ?", []any{ms, ms}},
		{"tokens", "expires_at < ?", []any{ms}},
		{"sessions", "expires_at < ?", []any{ms}},
		{"logins", sweepLoginsWhere, []any{ms}},
	} {
		q := sweepStatement(s.table, s.where)
		for {
			res := db.gorm.WithContext(ctx).Exec(q, s.args...)
			if res.Error != nil {
				return total, translate(res.Error)
			}
			total += res.RowsAffected
			if res.RowsAffected < sweepChunk {
				break
			}
		}
	}
	return total, nil
}

func rowToToken(r *tokenRow) *Token {
	return &Token{
		ID:             r.ID,
		Kind:           r.Kind,
		ClientID:       r.ClientID,
		Subject:        r.Subject,
		Audience:       r.Audience,
		Scopes:         r.Scopes,
		LoginID:        r.LoginID,
		AuthRequestID:  r.AuthRequestID,
		FamilyID:       r.FamilyID,
		RefreshTokenID: r.RefreshTokenID,
		CreatedAt:      fromMS(r.CreatedAt),
		ExpiresAt:      fromMS(r.ExpiresAt),
		UsedAt:         fromMS(r.UsedAt),
		RevokedAt:      fromMS(r.RevokedAt),
	}
}
