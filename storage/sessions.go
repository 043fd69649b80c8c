package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// Session is a browser's single sign-on session: the login its latest
// signature made, kept server-side until it expires or is ended. The
// browser is named by the hash of its binding cookie.
type Session struct {
	// BindingHash names the browser (the SHA-256 of its binding value).
	BindingHash string
	LoginID     string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	// Login is loaded by SessionByBinding.
	Login *Login
}

type sessionRow struct {
	ID        string `gorm:"primaryKey;size:64"` // the binding hash
	LoginID   string `gorm:"size:64;not null"`
	CreatedAt int64  `gorm:"not null"`
	ExpiresAt int64  `gorm:"not null;index"`
	EndedAt   int64  `gorm:"not null;default:0"`
}

func (sessionRow) TableName() string { return "sessions" }

// SaveSession starts (or restarts) the browser's session.
func (db *DB) SaveSession(ctx context.Context, s *Session) error {
	row := &sessionRow{ID: s.BindingHash, LoginID: s.LoginID, CreatedAt: toMS(s.CreatedAt), ExpiresAt: toMS(s.ExpiresAt)}
	return translate(db.gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"login_id", "created_at", "expires_at", "ended_at"}),
	}).Create(row).Error)
}

// SessionByBinding returns the browser's live session with its login;
// ErrNotFound when it has none, or it has expired or been ended.
func (db *DB) SessionByBinding(ctx context.Context, bindingHash string) (*Session, error) {
	var row sessionRow
	err := db.read.WithContext(ctx).
		Where("id = ? AND ended_at = 0 AND expires_at > ?", bindingHash, db.nowMS()).Take(&row).Error
	if err := translate(err); err != nil {
		return nil, err
	}
	l, err := db.Login(ctx, row.LoginID)
	if err != nil {
		return nil, err
	}
	return &Session{BindingHash: row.ID, LoginID: row.LoginID, CreatedAt: fromMS(row.CreatedAt), ExpiresAt: fromMS(row.ExpiresAt), Login: l}, nil
}

// EndSession ends the browser's session, if it has one.
func (db *DB) EndSession(ctx context.Context, bindingHash string) error {
	return db.gorm.WithContext(ctx).Model(&sessionRow{}).
		Where("id = ? AND ended_at = 0", bindingHash).Update("ended_at", db.nowMS()).Error
}

// AttachLogin completes a pending, unexpired authorization request with a
// login that already exists: single sign-on, without a new signature.
// ErrNotFound when the request is unknown, expired or already completed.
func (db *DB) AttachLogin(ctx context.Context, authRequestID, loginID string) error {
	res := db.gorm.WithContext(ctx).Model(&authRequestRow{}).
		Where("id = ? AND login_id = '' AND expires_at > ?", authRequestID, db.nowMS()).
		Update("login_id", loginID)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrNotFound
	}
	return nil
}
