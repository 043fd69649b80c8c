package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"gorm.io/gorm"

	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/siwe/stellar"
)

// The statements every sign-in runs (store a challenge, read it, consume it
// and store the login and its tokens) bypass gorm's statement builder and
// reflection, which profiles showed at about a fifth of their cost; they run
// on gorm's own pool, which keeps them prepared, or, for PostgreSQL's writes,
// in a pipeline (pgbatch.go), whose connection keeps them prepared too. Each
// is written once, with $N placeholders, which PostgreSQL and SQLite both
// take, and is the one way its row is written (browser completions and
// refresh rotations use them too). The columns are those of the gorm models
// in models.go.

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

func saveChallenge(ctx context.Context, db *DB, c *siwe.Challenge) error {
	query, args := insertChallengeSQL, []any{c.ID, c.Nonce, c.Message, c.Address.Hex(), c.ChainID, c.ClientID, jsonList(c.Scopes),
		c.RedirectURI, c.AuthRequestID, toMS(c.IssuedAt), toMS(c.ExpiresAt)}
	if c.ByAccount || c.IsStellar() { // listed under its account (open.go)
		query, args = insertListedChallengeSQL, append(args, c.Account())
	}
	if db.batch == nil {
		_, err := db.challengePipe.exec(ctx, "", query, args...)
		return err
	}
	return db.write(ctx, func(ctx context.Context, p pool) error {
		_, err := db.exec(ctx, p, query, args...)
		return err
	})
}

func loadChallenge(ctx context.Context, db *DB, column, value string) (*siwe.Challenge, error) {
	// A lookup by key takes well under a millisecond: it is not worth the
	// goroutine the driver starts to interrupt a cancellable statement.
	row := db.read.ConnPool.QueryRowContext(context.WithoutCancel(ctx), selectChallengeSQL+column+` = $1`, value)
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

// writeTokensOnce stores an issuance that redeems a code or a challenge in
// one PostgreSQL statement, so in one round trip instead of five (begin,
// consume, login, tokens, commit): data-modifying CTEs run atomically, and
// nothing is inserted unless the conditional consume changed its row.
func (db *DB) writeTokensOnce(ctx context.Context, w TokenWrite, nowMS int64) error {
	var q sqlArgs
	var gate string
	reused := error(ErrReused)
	lock := "challenges " + w.Challenge
	if w.CodeOf != "" {
		lock = "auth_requests " + w.CodeOf
		gate = "UPDATE auth_requests SET code_used_at = " + q.arg(nowMS, "bigint") + " WHERE id = " + q.arg(w.CodeOf, "text") +
			" AND code_hash IS NOT NULL AND code_used_at = 0 AND code_expires_at > " + q.arg(nowMS, "bigint")
	} else {
		gate = "UPDATE challenges SET used_at = " + q.arg(nowMS, "bigint") + " WHERE id = " + q.arg(w.Challenge, "text") +
			" AND used_at = 0 AND expires_at > " + q.arg(nowMS, "bigint")
		reused = siwe.ErrChallengeUsed
	}
	sql := "WITH gate AS (" + gate + " RETURNING 1)"
	if l := w.Login; l != nil {
		sql += ", login AS (INSERT INTO logins " + loginColumns + " SELECT " +
			q.list(loginValues(l)) +
			" FROM gate RETURNING 1)"
	}
	if t := w.Refresh; t != nil {
		sql += ", refresh AS (INSERT INTO tokens " + tokenColumns + " SELECT " + q.list(tokenValues(t)) + " FROM gate RETURNING 1)"
	}
	sql += " INSERT INTO tokens " + tokenColumns + " SELECT " + q.list(tokenValues(w.Access)) + " FROM gate"
	n, err := db.tokenPipe.exec(ctx, lock, sql, q.args...)
	if err != nil {
		return err
	}
	if n != 1 {
		return reused
	}
	return nil
}

func loginValues(l *Login) []any {
	return []any{l.ID, l.Subject, l.Address, l.ChainID, l.Signer, l.Name, l.Message, l.Signature,
		jsonList(l.AMR), toMS(l.AuthTime), toMS(l.ExpiresAt), l.AgentRegistry, l.AgentID, l.AgentVerified, l.AgentName, l.AgentServices}
}

func tokenValues(t *Token) []any {
	return []any{t.ID, t.Kind, t.ClientID, t.Subject, jsonList(t.Audience), jsonList(t.Scopes), t.LoginID,
		t.AuthRequestID, t.FamilyID, t.RefreshTokenID, toMS(t.CreatedAt), toMS(t.ExpiresAt), toMS(t.UsedAt), toMS(t.RevokedAt)}
}

// sqlArgs numbers the parameters of a statement being built. Parameters in
// a SELECT list have no type PostgreSQL can infer, so each carries a cast.
type sqlArgs struct{ args []any }

func (q *sqlArgs) arg(v any, typ string) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args)) + "::" + typ
}

// list adds values as parameters: int64 as bigint, everything else as text.
func (q *sqlArgs) list(vs []any) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		typ := "text"
		if _, ok := v.(int64); ok {
			typ = "bigint"
		}
		b.WriteString(q.arg(v, typ))
	}
	return b.String()
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
