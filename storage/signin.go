package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"gorm.io/gorm"

	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/siwe/stellar"
)

// The statements every sign-in runs (store a challenge, read it, consume it
// and store the login and its tokens) are written here once, in plain SQL
// with $N placeholders, which PostgreSQL and SQLite both take; each is the
// one way its row is written (browser completions and refresh rotations use
// them too), so what a sign-in does to the database reads in one place. The
// columns are those of the gorm models in models.go.

const (
	insertChallengeSQL = `INSERT INTO challenges (id, nonce, message, address, chain_id, client_id, scopes, redirect_uri, auth_request_id, issued_at, expires_at, used_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)`
	challengeColumns    = `id, nonce, message, address, chain_id, client_id, scopes, redirect_uri, auth_request_id, issued_at, expires_at, account`
	selectChallengeSQL  = `SELECT ` + challengeColumns + ` FROM challenges WHERE `
	consumeChallengeSQL = `UPDATE challenges SET used_at = $1 WHERE id = $2 AND used_at = 0 AND expires_at > $1`
	consumeCodeSQL      = `UPDATE auth_requests SET code_used_at = $1 WHERE id = $2 AND code_hash IS NOT NULL AND code_used_at = 0 AND code_expires_at > $1`
	loginColumns        = `(id, subject, address, chain_id, signer, name, message, signature, amr, auth_time, expires_at, agent_registry, agent_id, agent_verified, agent_name, agent_services)`
	insertLoginSQL      = `INSERT INTO logins ` + loginColumns + ` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`
	tokenColumns        = `(id, kind, client_id, subject, audience, scopes, login_id, auth_request_id, family_id, refresh_token_id, created_at, expires_at, used_at, revoked_at)`
	insertTokenSQL      = `INSERT INTO tokens ` + tokenColumns + ` VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`
)

// pool is what a statement runs on: gorm's pool or a transaction of it.
type pool = gorm.ConnPool

// exec runs a hot-path statement and returns the rows it changed.
func (db *DB) exec(ctx context.Context, p pool, query string, args ...any) (int64, error) {
	res, err := p.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, db.failed(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, db.failed(err)
	}
	return n, nil
}

// failed translates a driver error and reports real failures to the error hook.
func (db *DB) failed(err error) error {
	t := translate(err)
	if t != ErrConflict && t != ErrNotFound && db.onError != nil {
		db.onError(err)
	}
	return t
}

// jsonList is a list column's stored text, as gorm's JSON serializer writes it.
func jsonList(s []string) string {
	b, _ := json.Marshal(nonNil(s))
	return string(b)
}

// write runs fn in one transaction: every write of more than one statement
// goes through it. On SQLite the write pool has one connection and
// transactions take the write lock when they begin (see dialectorFor), so
// writers queue in the pool; on PostgreSQL the conditional UPDATEs that
// consume a challenge, a code or a refresh token decide between concurrent
// writers, on any replica.
func (db *DB) write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return db.gorm.WithContext(ctx).Transaction(fn)
}

func saveChallenge(ctx context.Context, db *DB, c *siwe.Challenge) error {
	query, args := insertChallengeSQL, []any{c.ID, c.Nonce, c.Message, c.Address.Hex(), c.ChainID, c.ClientID, jsonList(c.Scopes),
		c.RedirectURI, c.AuthRequestID, toMS(c.IssuedAt), toMS(c.ExpiresAt)}
	if c.ByAccount || c.IsStellar() { // listed under its account (open.go)
		query, args = insertListedChallengeSQL, append(args, c.Account())
	}
	_, err := db.exec(ctx, db.gorm.ConnPool, query, args...)
	return err
}

func loadChallenge(ctx context.Context, db *DB, column, value string) (*siwe.Challenge, error) {
	row := db.read.ConnPool.QueryRowContext(ctx, selectChallengeSQL+column+` = $1`, value)
	c, err := scanChallenge(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, siwe.ErrChallengeNotFound
	}
	if err != nil {
		return nil, db.failed(err)
	}
	return c, nil
}

// scanChallenge reads a row of challengeColumns with scan.
func scanChallenge(scan func(dest ...any) error) (*siwe.Challenge, error) {
	var (
		c                         siwe.Challenge
		address                   string
		issued, expires           int64
		scopes, redirect, request sql.NullString
		account                   string
	)
	err := scan(&c.ID, &c.Nonce, &c.Message, &address, &c.ChainID, &c.ClientID, &scopes, &redirect, &request, &issued, &expires, &account)
	if err != nil {
		return nil, err
	}
	if scopes.Valid && scopes.String != "" {
		if err := json.Unmarshal([]byte(scopes.String), &c.Scopes); err != nil {
			return nil, err
		}
	}
	c.Address = common.HexToAddress(address)
	if c.ByAccount = account != ""; c.ByAccount && !common.IsHexAddress(account) {
		if c.Stellar, err = stellar.ParseAddress(account); err != nil {
			return nil, err
		}
	}
	c.RedirectURI, c.AuthRequestID = redirect.String, request.String
	c.IssuedAt, c.ExpiresAt = fromMS(issued), fromMS(expires)
	return &c, nil
}

func (db *DB) consumeChallengeOn(ctx context.Context, p pool, id string, nowMS int64) error {
	n, err := db.exec(ctx, p, consumeChallengeSQL, nowMS, id)
	if err != nil {
		return err
	}
	if n != 1 {
		return siwe.ErrChallengeUsed
	}
	return nil
}

// writeTokensOnce stores an issuance that redeems a code or a challenge on
// PostgreSQL as one statement, one round trip instead of five (begin,
// consume, login, tokens, commit): data-modifying CTEs run atomically, and
// nothing is inserted unless the conditional consume changed its row. The
// consume is consumeCodeSQL or consumeChallengeSQL itself.
func (db *DB) writeTokensOnce(ctx context.Context, w TokenWrite, nowMS int64) error {
	gate, key, reused := consumeChallengeSQL, w.Challenge, error(siwe.ErrChallengeUsed)
	if w.CodeOf != "" {
		gate, key, reused = consumeCodeSQL, w.CodeOf, ErrReused
	}
	args := []any{nowMS, key}
	q := "WITH gate AS (" + gate + " RETURNING 1)"
	if w.Login != nil {
		q += ", login AS (INSERT INTO logins " + loginColumns + " SELECT " + params(&args, loginValues(w.Login)) + " FROM gate RETURNING 1)"
	}
	if w.Refresh != nil {
		q += ", refresh AS (INSERT INTO tokens " + tokenColumns + " SELECT " + params(&args, tokenValues(w.Refresh)) + " FROM gate RETURNING 1)"
	}
	q += " INSERT INTO tokens " + tokenColumns + " SELECT " + params(&args, tokenValues(w.Access)) + " FROM gate"
	n, err := db.exec(ctx, db.gorm.ConnPool, q, args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return reused
	}
	return nil
}

// params appends vs to args and returns their placeholders, each with the
// cast PostgreSQL needs in a SELECT list: bigint for int64, text otherwise.
func params(args *[]any, vs []any) string {
	var b strings.Builder
	for i, v := range vs {
		*args = append(*args, v)
		if i > 0 {
			b.WriteString(", ")
		}
		typ := "text"
		if _, ok := v.(int64); ok {
			typ = "bigint"
		}
		fmt.Fprintf(&b, "$%d::%s", len(*args), typ)
	}
	return b.String()
}

func loginValues(l *Login) []any {
	return []any{l.ID, l.Subject, l.Address, l.ChainID, l.Signer, l.Name, l.Message, l.Signature,
		jsonList(l.AMR), toMS(l.AuthTime), toMS(l.ExpiresAt), l.AgentRegistry, l.AgentID, l.AgentVerified, l.AgentName, l.AgentServices}
}

func tokenValues(t *Token) []any {
	return []any{t.ID, t.Kind, t.ClientID, t.Subject, jsonList(t.Audience), jsonList(t.Scopes), t.LoginID,
		t.AuthRequestID, t.FamilyID, t.RefreshTokenID, toMS(t.CreatedAt), toMS(t.ExpiresAt), toMS(t.UsedAt), toMS(t.RevokedAt)}
}

// writeTokens stores one issuance on p (see CreateTokens).
func (db *DB) writeTokens(ctx context.Context, p pool, w TokenWrite, nowMS int64) error {
	if w.CodeOf != "" {
		n, err := db.exec(ctx, p, consumeCodeSQL, nowMS, w.CodeOf)
		if err != nil {
			return err
		}
		if n != 1 {
			return ErrReused
		}
	}
	if w.Challenge != "" {
		if err := db.consumeChallengeOn(ctx, p, w.Challenge, nowMS); err != nil {
			return err
		}
	}
	if w.Login != nil {
		if err := db.insertLogin(ctx, p, w.Login); err != nil {
			return err
		}
	}
	return db.insertTokens(ctx, p, w.Access, w.Refresh)
}

func (db *DB) insertLogin(ctx context.Context, p pool, l *Login) error {
	_, err := db.exec(ctx, p, insertLoginSQL, loginValues(l)...)
	return err
}

// insertTokens stores the tokens that are not nil.
func (db *DB) insertTokens(ctx context.Context, p pool, ts ...*Token) error {
	for _, t := range ts {
		if t == nil {
			continue
		}
		if _, err := db.exec(ctx, p, insertTokenSQL, tokenValues(t)...); err != nil {
			return err
		}
	}
	return nil
}
