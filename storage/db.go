package storage

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Errors returned by the store, translated from the drivers' own.
var (
	// ErrNotFound reports that no row matches.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict reports a unique-key clash.
	ErrConflict = errors.New("storage: already exists")
	// ErrReused reports a second use of a single-use value (code or refresh token).
	ErrReused = errors.New("storage: already used")
)

// DB is Signet's database: one gorm handle plus the clock used for
// expiry decisions made in SQL.
type DB struct {
	// gorm takes writes (and reads that must see a transaction's own
	// writes); read serves plain lookups. On PostgreSQL they are one pool.
	// On SQLite, which allows one writer at a time, writes go through a
	// single connection, so writers queue in the pool instead of polling the
	// file lock, while reads use several connections beside it (WAL).
	gorm    *gorm.DB
	read    *gorm.DB
	driver  string
	now     func() time.Time
	onError func(error)
}

// Option configures a DB.
type Option func(*DB)

// WithClock sets the clock used to decide expiry; tests inject a fake one.
func WithClock(now func() time.Time) Option { return func(db *DB) { db.now = now } }

// WithErrorHook calls hook for every failed database operation (not for
// "not found" or unique-key clashes, which are answers, not failures).
func WithErrorHook(hook func(error)) Option { return func(db *DB) { db.onError = hook } }

// Open connects to the database named by dsn ("sqlite:PATH" or a
// "postgres://" URL) and migrates its schema.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	dialector, driver, err := dialectorFor(dsn)
	if err != nil {
		return nil, err
	}
	g, err := gorm.Open(dialector, gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	db := &DB{gorm: g, read: g, driver: driver, now: time.Now}
	for _, o := range opts {
		o(db)
	}
	if db.onError != nil {
		if err := registerErrorHook(g, db.onError); err != nil {
			return nil, err
		}
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", driver, err)
	}
	if err := db.migrate(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	if driver == "sqlite" {
		if err := db.openReaders(dialector); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return db, nil
}

// gormConfig is the configuration of one pool. Each pool needs its own:
// gorm.Open keeps the pointer and stores the pool in it, so a second Open
// with the same one would turn the first handle's ConnPool and DB() into
// the second's pool. gorm's statement cache (PrepareStmt) stays off: it
// holds a lock while a new statement waits for a connection, and on
// SQLite's one write connection that deadlocks against a transaction
// (TestConcurrentWritesDoNotDeadlock). pgx caches prepared statements on
// its own.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	}
}

// openPool opens a second pool of at most size connections beside the main
// one, with the same error hook.
func (db *DB) openPool(d gorm.Dialector, size int) (*gorm.DB, error) {
	g, err := gorm.Open(d, gormConfig())
	if err != nil {
		return nil, err
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(size)
	sqlDB.SetMaxIdleConns(size)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if db.onError != nil {
		if err := registerErrorHook(g, db.onError); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return g, nil
}

// closePool closes a pool opened by openPool.
func (db *DB) closePool(g *gorm.DB) {
	if sqlDB, err := g.DB(); err == nil {
		_ = sqlDB.Close()
	}
}

// openReaders opens SQLite's read pool on the same file.
func (db *DB) openReaders(d gorm.Dialector) error {
	r, err := db.openPool(sqlite.Open(d.(*sqlite.Dialector).DSN), 4)
	if err != nil {
		return err
	}
	db.read = r
	return nil
}

// dialectorFor turns a DSN into a gorm dialector. For SQLite it also makes
// the database files private (see makePrivate) before SQLite opens them.
func dialectorFor(dsn string) (gorm.Dialector, string, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" || strings.Contains(path, "?") || path == ":memory:" {
			return nil, "", fmt.Errorf("database %q: want sqlite:PATH to a file, without options", dsn)
		}
		if err := makePrivate(path); err != nil {
			return nil, "", fmt.Errorf("database %q: %w", dsn, err)
		}
		// _txlock=immediate: read-then-write transactions take the write lock
		// up front, so concurrent writers queue on busy_timeout instead of
		// failing with "database is locked". journal_size_limit: after a burst,
		// the WAL file shrinks back to 8 MiB once it is checkpointed.
		return sqlite.Open("file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=journal_size_limit(8388608)&_txlock=immediate"), "sqlite", nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return nil, "", fmt.Errorf("database: invalid postgres URL")
		}
		return postgres.Open(dsn), "postgres", nil
	default:
		return nil, "", fmt.Errorf("database %q: want sqlite:PATH or a postgres:// URL", redactDSN(dsn))
	}
}

// makePrivate creates the SQLite database file at path, readable and
// writable by its owner only, unless it exists; an existing file, and a WAL
// and shared-memory index left beside it, lose any group or world access.
// The files hold login history. SQLite gives the -wal and -shm files it
// creates the database file's permissions, so they are private too.
func makePrivate(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("the directory %s does not exist: create it first, or fix the path", dir)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			if err := os.Chmod(name, mode&^0o077); err != nil {
				return err
			}
		}
	}
	return nil
}

// redactDSN hides a password in a URL-shaped DSN.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	return u.Redacted()
}

// Driver names the backend: "sqlite" or "postgres".
func (db *DB) Driver() string { return db.driver }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close releases the connection pools.
func (db *DB) Close() error {
	if db.read != db.gorm {
		db.closePool(db.read)
	}
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// PostgreSQL advisory lock keys ("signet" and a number), one per task that
// replicas must not run at the same time. Advisory locks are per database.
const (
	migrationLock int64 = 0x7369676e65740001
	firstKeyLock  int64 = 0x7369676e65740002
)

// migrate brings the schema up to date. On PostgreSQL, replicas starting
// together on a fresh database would each see a table missing and create
// it, and all but one would fail ("already exists"): there, one process at
// a time migrates, holding a session advisory lock on the connection it
// migrates through.
func (db *DB) migrate(ctx context.Context) error {
	g := db.gorm
	if db.driver == "postgres" {
		sqlDB, err := db.gorm.DB()
		if err != nil {
			return err
		}
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrate postgres schema: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("migrate postgres schema: %w", err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock); err != nil {
				// Closing the session releases its locks.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
		g, err = gorm.Open(postgres.New(postgres.Config{Conn: conn}), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return fmt.Errorf("migrate postgres schema: %w", err)
		}
	}
	err := g.WithContext(ctx).AutoMigrate(
		&clientRow{}, &challengeRow{}, &loginRow{}, &authRequestRow{},
		&tokenRow{}, &signingKeyRow{}, &settingRow{}, &sessionRow{},
		&apiKeyRow{},
	)
	if err != nil {
		return fmt.Errorf("migrate %s schema: %w", db.driver, err)
	}
	return nil
}

// nowMS is the current time in Unix milliseconds, the unit of every stored instant.
func (db *DB) nowMS() int64 { return db.now().UnixMilli() }

// translate maps driver errors to the package's sentinels.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrConflict
	case strings.Contains(err.Error(), "UNIQUE constraint failed"), strings.Contains(err.Error(), "SQLSTATE 23505"):
		return ErrConflict
	}
	return err
}

// toMS converts an instant to stored milliseconds; the zero time stays 0.
func toMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored milliseconds back to UTC; 0 is the zero time.
func fromMS(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// LogValue keeps DSNs out of logs.
func (db *DB) LogValue() slog.Value { return slog.StringValue(db.driver) }

// registerErrorHook reports g's failed statements to hook.
func registerErrorHook(g *gorm.DB, hook func(error)) error {
	report := func(g *gorm.DB) {
		if err := g.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && translate(err) != ErrConflict {
			hook(err)
		}
	}
	cb := g.Callback()
	if err := cb.Create().After("gorm:create").Register("signet:errors", report); err != nil {
		return err
	}
	if err := cb.Query().After("gorm:query").Register("signet:errors", report); err != nil {
		return err
	}
	if err := cb.Update().After("gorm:update").Register("signet:errors", report); err != nil {
		return err
	}
	if err := cb.Delete().After("gorm:delete").Register("signet:errors", report); err != nil {
		return err
	}
	return cb.Raw().After("gorm:raw").Register("signet:errors", report)
}
