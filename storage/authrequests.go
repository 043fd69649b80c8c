package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// AuthRequest is an OAuth authorization request waiting for, or completed
// by, a SIWE login.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	ResponseType        string
	ResponseMode        string
	Scopes              []string
	Prompt              []string
	LoginHint           string
	CodeChallenge       string
	CodeChallengeMethod string
	// BindingHash is the SHA-256 of the browser-binding cookie set when the
	// request was created: only the browser holding that cookie may finish
	// the sign-in (RFC 9700 §4.4, §4.7).
	BindingHash string
	// MaxAge is the request's max_age in seconds (OpenID Connect Core
	// §3.1.2.1), nil when it set none.
	MaxAge    *int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// CodeIssued reports that the request's authorization code was already
	// issued: a second callback must not issue another.
	CodeIssued bool
	// Login is set once the person has signed in.
	Login *Login
}

// Login is the proof of one successful sign-in: who signed what.
type Login struct {
	ID string
	// Subject is the CAIP-10 account ("eip155:<chain>:<address>").
	Subject string
	// Address is the EIP-55 account address.
	Address string
	ChainID int64
	// Signer is the key that produced the signature when it is not Address
	// itself (a developer-license signer).
	Signer string
	// Name is the account's verified primary ENS name, if it has one.
	Name      string
	Message   string
	Signature string
	AMR       []string
	AuthTime  time.Time
	// ExpiresAt bounds how long the proof is kept: the longest-lived token
	// that refers to it.
	ExpiresAt time.Time
	// AgentRegistry is the ERC-8004 registry ("eip155:<chain>:<address>")
	// of the agent that signed in (SIWA); empty for any other sign-in.
	AgentRegistry string
	// AgentID is the agent's token ID in AgentRegistry.
	AgentID int64
	// AgentVerified says how the agent's control was checked: "onchain" or "offline".
	AgentVerified string
	// AgentName is the name in the agent's registration file, if it was read.
	AgentName string
	// AgentServices are the services of the agent's registration file, as
	// a JSON array, if it was read.
	AgentServices string
}

// CreateAuthRequest stores a new authorization request.
func (db *DB) CreateAuthRequest(ctx context.Context, a *AuthRequest) error {
	row := &authRequestRow{
		ID:                  a.ID,
		ClientID:            a.ClientID,
		RedirectURI:         a.RedirectURI,
		State:               a.State,
		Nonce:               a.Nonce,
		ResponseType:        a.ResponseType,
		ResponseMode:        a.ResponseMode,
		Scopes:              nonNil(a.Scopes),
		Prompt:              nonNil(a.Prompt),
		LoginHint:           a.LoginHint,
		CodeChallenge:       a.CodeChallenge,
		CodeChallengeMethod: a.CodeChallengeMethod,
		BindingHash:         a.BindingHash,
		MaxAge:              a.MaxAge,
		CreatedAt:           toMS(a.CreatedAt),
		ExpiresAt:           toMS(a.ExpiresAt),
	}
	return translate(db.gorm.WithContext(ctx).Create(row).Error)
}

// AuthRequestByID returns an authorization request with its login, if any.
func (db *DB) AuthRequestByID(ctx context.Context, id string) (*AuthRequest, error) {
	var row authRequestRow
	if err := translate(db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error); err != nil {
		return nil, err
	}
	return db.withLogin(ctx, &row)
}

// CompleteAuthRequest consumes the challenge a browser signed, records its
// login and attaches it to a pending, unexpired authorization request, in
// one transaction. siwe.ErrChallengeUsed when the challenge was already
// used or has expired (nothing is stored); ErrNotFound when the request is
// unknown, expired or already completed.
func (db *DB) CompleteAuthRequest(ctx context.Context, id, challengeID string, l *Login) error {
	now := db.nowMS()
	return db.write(ctx, func(tx *gorm.DB) error {
		p := tx.Statement.ConnPool
		if err := db.consumeChallengeOn(ctx, p, challengeID, now); err != nil {
			return err
		}
		if err := db.insertLogin(ctx, p, l); err != nil {
			return err
		}
		res := tx.Model(&authRequestRow{}).
			Where("id = ? AND login_id = '' AND expires_at > ?", id, now).
			Update("login_id", l.ID)
		if res.Error != nil {
			return translate(res.Error)
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		return nil
	})
}

// SaveAuthCode attaches the hash of an issued authorization code to a
// completed request.
func (db *DB) SaveAuthCode(ctx context.Context, id, codeHash string, expiresAt time.Time) error {
	res := db.gorm.WithContext(ctx).Model(&authRequestRow{}).
		Where("id = ? AND login_id <> '' AND code_hash IS NULL", id).
		Updates(map[string]any{"code_hash": codeHash, "code_expires_at": toMS(expiresAt)})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return nil
}

// AuthRequestByCode returns the completed request an unexpired, unused
// code belongs to. A code presented after it was redeemed returns ErrReused
// and revokes every token issued from it (RFC 6749 §4.1.2); an unknown or
// expired code returns ErrNotFound. The code itself is consumed by
// CreateTokens, in the transaction that stores the tokens.
func (db *DB) AuthRequestByCode(ctx context.Context, codeHash string) (*AuthRequest, error) {
	var row authRequestRow
	if err := translate(db.read.WithContext(ctx).Where("code_hash = ?", codeHash).Take(&row).Error); err != nil {
		return nil, err
	}
	if row.CodeUsedAt != 0 {
		if err := db.RevokeAuthRequestTokens(ctx, row.ID); err != nil {
			return nil, err
		}
		return nil, ErrReused
	}
	if row.CodeExpiresAt <= db.nowMS() {
		return nil, ErrNotFound
	}
	return db.withLogin(ctx, &row)
}

// DeleteAuthRequest removes a request that has no outstanding code. A
// redeemed request stays until it expires, so that a replayed code is still
// recognised and the tokens issued from it can be revoked.
func (db *DB) DeleteAuthRequest(ctx context.Context, id string) error {
	return db.gorm.WithContext(ctx).Where("id = ? AND code_hash IS NULL", id).Delete(&authRequestRow{}).Error
}

// Login returns a stored login.
func (db *DB) Login(ctx context.Context, id string) (*Login, error) {
	var row loginRow
	if err := translate(db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error); err != nil {
		return nil, err
	}
	return rowToLogin(&row), nil
}

func (db *DB) withLogin(ctx context.Context, row *authRequestRow) (*AuthRequest, error) {
	a := &AuthRequest{
		ID:                  row.ID,
		ClientID:            row.ClientID,
		RedirectURI:         row.RedirectURI,
		State:               row.State,
		Nonce:               row.Nonce,
		ResponseType:        row.ResponseType,
		ResponseMode:        row.ResponseMode,
		Scopes:              row.Scopes,
		Prompt:              row.Prompt,
		LoginHint:           row.LoginHint,
		CodeChallenge:       row.CodeChallenge,
		CodeChallengeMethod: row.CodeChallengeMethod,
		BindingHash:         row.BindingHash,
		MaxAge:              row.MaxAge,
		CreatedAt:           fromMS(row.CreatedAt),
		ExpiresAt:           fromMS(row.ExpiresAt),
		CodeIssued:          row.CodeHash != nil,
	}
	if row.LoginID != "" {
		l, err := db.Login(ctx, row.LoginID)
		if err != nil {
			return nil, err
		}
		a.Login = l
	}
	return a, nil
}

func rowToLogin(r *loginRow) *Login {
	return &Login{
		ID:        r.ID,
		Subject:   r.Subject,
		Address:   r.Address,
		ChainID:   r.ChainID,
		Signer:    r.Signer,
		Name:      r.Name,
		Message:   r.Message,
		Signature: r.Signature,
		AMR:       r.AMR,
		AuthTime:  fromMS(r.AuthTime),
		ExpiresAt: fromMS(r.ExpiresAt),

		AgentRegistry: r.AgentRegistry,
		AgentID:       r.AgentID,
		AgentVerified: r.AgentVerified,
		AgentName:     r.AgentName,
		AgentServices: r.AgentServices,
	}
}
