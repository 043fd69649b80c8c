package storage

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

func openSQLite(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signet.db")
	db, err := Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// The indexes on the tokens' authorization request and refresh family
// leave out headless tokens (which have neither), and the queries use them.
func TestTokenQueriesUsePartialIndexes(t *testing.T) {
	db, _ := openSQLite(t)
	for _, q := range []struct{ sql, index string }{
		{"SELECT id FROM tokens WHERE auth_request_id = 'x' AND auth_request_id <> ''", "idx_tokens_auth_request_id"},
		{"SELECT id FROM tokens WHERE family_id = 'x' AND family_id <> ''", "idx_tokens_family_id"},
	} {
		var plan []struct {
			ID, Parent, Notused int
			Detail              string
		}
		if err := db.gorm.Raw("EXPLAIN QUERY PLAN " + q.sql).Scan(&plan).Error; err != nil {
			t.Fatal(err)
		}
		if len(plan) != 1 || !strings.Contains(plan[0].Detail, "USING INDEX "+q.index) {
			t.Errorf("%s: plan %+v, want it to use %s", q.sql, plan, q.index)
		}
		var def string
		if err := db.gorm.Raw("SELECT sql FROM sqlite_master WHERE name = ?", q.index).Scan(&def).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(def, "WHERE") {
			t.Errorf("%s is not partial: %s", q.index, def)
		}
	}
}

// The sweep of logins holds SQLite's write connection: neither of its
// subqueries may scan a table once per login.
func TestSweepOfLoginsScansNoTablePerLogin(t *testing.T) {
	db, _ := openSQLite(t)
	var plan []struct {
		ID, Parent, Notused int
		Detail              string
	}
	if err := db.gorm.Raw("EXPLAIN QUERY PLAN "+sweepStatement("logins", sweepLoginsWhere), 0).Scan(&plan).Error; err != nil {
		t.Fatal(err)
	}
	correlated := map[int]bool{} // IDs of the plan's correlated subqueries
	var tokensByIndex bool
	for _, step := range plan {
		if strings.HasPrefix(step.Detail, "CORRELATED") {
			correlated[step.ID] = true
		}
		if strings.Contains(step.Detail, "tokens USING") && strings.Contains(step.Detail, "INDEX idx_tokens_login_id") {
			tokensByIndex = true
		}
		if correlated[step.Parent] && strings.HasPrefix(step.Detail, "SCAN") {
			t.Errorf("a correlated subquery scans a table: %+v", plan)
		}
	}
	if !tokensByIndex {
		t.Errorf("the tokens subquery does not use idx_tokens_login_id: %+v", plan)
	}
}

// A sweep deletes in chunks, and deletes everything expired however many
// chunks that takes.
func TestSweepDeletesInChunks(t *testing.T) {
	db, _ := openSQLite(t)
	ctx := context.Background()
	now := time.Now()
	past := now.Add(-time.Minute)
	const n = 2*sweepChunk + 7
	tx := db.gorm.Begin()
	for i := range n {
		id := strconv.Itoa(i)
		tx.Exec(insertChallengeSQL, "c"+id, "nonce"+id+"0000000000000000", "m", "0xB2", 1, "app", "[]", "", "", toMS(past), toMS(past))
		tx.Exec(insertLoginSQL, "l"+id, "s", "a", 1, "", "", "m", "s", "[]", toMS(past), toMS(past), "", 0, "", "", "")
		tx.Exec(insertTokenSQL, "t"+id, KindAccess, "app", "s", "[]", "[]", "l"+id, "", "", "", toMS(past), toMS(past), 0, 0)
	}
	// One live token keeps its (expired) login.
	tx.Exec(insertTokenSQL, "live", KindAccess, "app", "s", "[]", "[]", "l0", "", "", "", toMS(now), toMS(now.Add(time.Hour)), 0, 0)
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	swept, err := db.Sweep(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(3*n - 1); swept != want {
		t.Errorf("swept %d rows, want %d", swept, want)
	}
	for table, want := range map[string]int64{"challenges": 0, "logins": 1, "tokens": 1} {
		var left int64
		if err := db.gorm.Table(table).Count(&left).Error; err != nil {
			t.Fatal(err)
		}
		if left != want {
			t.Errorf("%s: %d rows left, want %d", table, left, want)
		}
	}
}

// Writes go through one connection, so SQLite's writers queue in the pool
// instead of polling the file lock; reads have a pool of their own.
func TestOneWriteConnection(t *testing.T) {
	db, _ := openSQLite(t)
	writer, err := db.gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if max := writer.Stats().MaxOpenConnections; max != 1 {
		t.Errorf("the write pool allows %d connections, want 1", max)
	}
	reader, err := db.read.DB()
	if err != nil {
		t.Fatal(err)
	}
	if reader == writer {
		t.Error("reads share the write connection")
	}
}

// Transactions on the one write connection and statements outside them,
// each seen for the first time, run side by side without deadlocking: a
// statement cache that holds a lock while it waits for a connection would
// stop every writer for good.
func TestConcurrentWritesDoNotDeadlock(t *testing.T) {
	db, _ := openSQLite(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 100 {
					// A handful of texts, so that writers also meet statements
					// another writer is still preparing.
					q := "UPDATE settings SET value = value WHERE name = 'x" + strconv.Itoa((w+i)%7) + "'"
					var err error
					if w%2 == 0 {
						err = db.write(ctx, func(tx *gorm.DB) error { return tx.Exec(q).Error })
					} else {
						err = db.gorm.WithContext(ctx).Exec(q + " AND 1 = " + strconv.Itoa(i%5+1)).Error
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		done <- <-errs
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("concurrent writes deadlocked")
	}
}
