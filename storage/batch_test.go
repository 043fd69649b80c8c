package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/siwe"
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

func testChallenge(id string) *siwe.Challenge {
	now := time.Now()
	return &siwe.Challenge{ID: id, Nonce: "nonce" + id + "0000000000000000", Message: "m", Address: common.HexToAddress("0xB2"),
		ChainID: 1, ClientID: "app", IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
}

func insertJob(db *DB, ctx context.Context, c *siwe.Challenge) *writeJob {
	return &writeJob{ctx: ctx, done: make(chan error, 1), fn: func(ctx context.Context, p pool) error {
		_, err := db.exec(ctx, p, insertChallengeSQL, c.ID, c.Nonce, c.Message, c.Address.Hex(), c.ChainID,
			c.ClientID, "[]", "", "", toMS(c.IssuedAt), toMS(c.ExpiresAt))
		return err
	}}
}

// One failed write in a batch is rolled back alone; the others commit, and
// a write whose caller gave up before its turn is not made.
func TestBatchRollsBackOnlyTheFailedWrite(t *testing.T) {
	db, _ := openSQLite(t)
	ctx := context.Background()
	if err := db.SaveChallenge(ctx, testChallenge("taken")); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	// The failing write stores "partial" before it fails on "taken".
	partial, taken := insertJob(db, ctx, testChallenge("partial")), insertJob(db, ctx, testChallenge("taken"))
	failing := &writeJob{ctx: ctx, done: make(chan error, 1), fn: func(ctx context.Context, p pool) error {
		if err := partial.fn(ctx, p); err != nil {
			return err
		}
		return taken.fn(ctx, p)
	}}
	jobs := []*writeJob{
		insertJob(db, ctx, testChallenge("a")),
		failing,
		insertJob(db, canceled, testChallenge("gone")),
		insertJob(db, ctx, testChallenge("b")),
	}
	db.runBatch(jobs)
	want := []error{nil, ErrConflict, context.Canceled, nil}
	for i, j := range jobs {
		if err := <-j.done; !errors.Is(err, want[i]) {
			t.Errorf("job %d: %v, want %v", i, err, want[i])
		}
	}
	for id, stored := range map[string]bool{"a": true, "b": true, "gone": false, "partial": false} {
		_, err := db.ChallengeByID(ctx, id)
		if stored != (err == nil) {
			t.Errorf("challenge %q: err = %v, want stored = %v", id, err, stored)
		}
	}
}

func TestBatchSingleWriteFails(t *testing.T) {
	db, _ := openSQLite(t)
	ctx := context.Background()
	_ = db.SaveChallenge(ctx, testChallenge("x"))
	if err := db.SaveChallenge(ctx, testChallenge("x")); !errors.Is(err, ErrConflict) {
		t.Fatalf("duplicate: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	db, _ := openSQLite(t)
	db.Close()
	if err := db.SaveChallenge(context.Background(), testChallenge("late")); !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// The write connection never checkpoints, so the WAL stays small only
// because the background checkpointer copies it back: after a burst, the
// file shrinks to journal_size_limit once the next write restarts it.
func TestCheckpointsKeepTheWALSmall(t *testing.T) {
	db, path := openSQLite(t)
	ctx := context.Background()
	const limit = 8 << 20
	for i := range 3000 {
		if err := db.SaveChallenge(ctx, testChallenge("burst"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; ; i++ {
		// Each write after a complete checkpoint restarts the WAL.
		if err := db.SaveChallenge(ctx, testChallenge("after"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() <= limit {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("WAL is still %d bytes; it is not being checkpointed", st.Size())
		}
		time.Sleep(50 * time.Millisecond)
	}
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

// While requests are in progress (Expect), the writer waits for their
// writes and commits them in one transaction; it stops waiting as soon as
// every request in progress has written. (The delay is an hour here: a
// writer that waited out its delay would hang the test.)
func TestExpectedWritesShareATransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	db, err := Open(context.Background(), "sqlite:"+path, func(db *DB) { db.commitDelay = time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	before := db.batch.batches.Load()
	const n = 4
	var wg sync.WaitGroup
	dones := make([]func(), n)
	for i := range n {
		dones[i] = db.Expect()
	}
	for i, done := range dones {
		if i > 0 {
			time.Sleep(20 * time.Millisecond) // the first write is queued well before the others
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done()
			if err := db.SaveChallenge(ctx, testChallenge("together"+strconv.Itoa(i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := db.batch.batches.Load() - before; got != 1 {
		t.Errorf("%d concurrent expected writes took %d transactions, want 1", n, got)
	}

	// A lone request does not wait: nobody could join it.
	done := db.Expect()
	if err := db.SaveChallenge(ctx, testChallenge("alone")); err != nil {
		t.Fatal(err)
	}
	done()
	// Nor does a write outside any request.
	if err := db.SaveChallenge(ctx, testChallenge("outside")); err != nil {
		t.Fatal(err)
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

// Opening the read pool leaves the write handle on the write connection:
// its ConnPool (the hot path's) and DB() (what Close closes) are the
// single connection that never checkpoints, not the readers'.
func TestWriteHandleKeepsItsConnection(t *testing.T) {
	db, _ := openSQLite(t)
	var viaGorm, viaConnPool int
	if err := db.gorm.Raw("PRAGMA wal_autocheckpoint").Scan(&viaGorm).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.gorm.ConnPool.QueryRowContext(context.Background(), "PRAGMA wal_autocheckpoint").Scan(&viaConnPool); err != nil {
		t.Fatal(err)
	}
	if viaGorm != 0 || viaConnPool != 0 {
		t.Errorf("wal_autocheckpoint = %d (gorm), %d (ConnPool), want 0: the write handle runs on a read connection", viaGorm, viaConnPool)
	}
	writer, err := db.gorm.DB()
	if err != nil {
		t.Fatal(err)
	}
	if max := writer.Stats().MaxOpenConnections; max != 1 {
		t.Errorf("the write handle's pool allows %d connections, want 1", max)
	}
}
