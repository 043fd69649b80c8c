// Package storagetest gives tests a private database on every backend
// Signet supports: a SQLite file in a temporary folder, and a fresh
// PostgreSQL schema when SIGNET_TEST_POSTGRES_DSN names a reachable server.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvPostgres names the variable that points tests at a PostgreSQL server.
const EnvPostgres = "SIGNET_TEST_POSTGRES_DSN"

// EnvRequireAll, when set (CI sets it), turns a skip for a missing
// dependency into a failure, so CI cannot pass without running everything.
const EnvRequireAll = "SIGNET_TEST_REQUIRE_ALL"

// Skip skips the test with reason, or fails it when EnvRequireAll is set.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvRequireAll) != "" {
		t.Fatalf("%s (and %s is set)", reason, EnvRequireAll)
	}
	t.Skip(reason)
}

// SQLiteDSN returns a DSN for a fresh SQLite file that the test removes.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
}

// PostgresDSN returns a DSN whose search_path is a new, empty schema that is
// dropped when the test ends; the test is skipped, with the reason, when
// SIGNET_TEST_POSTGRES_DSN is unset or the server does not answer.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		Skip(t, EnvPostgres+" is not set; PostgreSQL tests skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		Skip(t, fmt.Sprintf("PostgreSQL at %s unusable: %v", EnvPostgres, err))
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		Skip(t, fmt.Sprintf("PostgreSQL at %s unreachable: %v", EnvPostgres, err))
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "signet_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Backends runs f once per available backend, as subtests "sqlite" and
// "postgres".
func Backends(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, PostgresDSN(t)) })
}
