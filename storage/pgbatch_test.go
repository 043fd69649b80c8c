package storage

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/signet-id/signet/internal/storagetest"
)

func openPostgres(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), storagetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func insertStatement(ctx context.Context, id string) *pgJob {
	c := testChallenge(id)
	return &pgJob{ctx: ctx, query: insertChallengeSQL, done: make(chan pgResult, 1), args: []any{c.ID, c.Nonce, c.Message,
		c.Address.Hex(), c.ChainID, c.ClientID, "[]", "", "", toMS(c.IssuedAt), toMS(c.ExpiresAt)}}
}

// The statements of one pipeline commit together, as one transaction; the
// challenges' pipeline commits without waiting for the WAL flush, the
// tokens' waits for it, and so does each for a statement sent alone.
func TestPipelineIsOneTransaction(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		pipe *pgBatcher
		n    int
		want string
	}{
		{"challenges", db.challengePipe, 3, "off"}, {"tokens", db.tokenPipe, 3, "on"},
		{"challenge", db.challengePipe, 1, "off"}, {"token", db.tokenPipe, 1, "on"},
	} {
		var jobs []*pgJob
		for i := range c.n {
			jobs = append(jobs, &pgJob{ctx: ctx, done: make(chan pgResult, 1),
				query: `INSERT INTO settings (name, value, created_at)
					VALUES ($1, convert_to(txid_current()::text || ' ' || current_setting('synchronous_commit'), 'UTF8'), 0)`,
				args: []any{c.name + strconv.Itoa(i)}})
		}
		before := c.pipe.batches.Load()
		c.pipe.run(jobs)
		for i, j := range jobs {
			if r := <-j.done; r.err != nil || r.rows != 1 {
				t.Errorf("%s statement %d: %d rows, %v", c.name, i, r.rows, r.err)
			}
		}
		if got := c.pipe.batches.Load() - before; got != 1 {
			t.Errorf("%s: %d statements took %d round trips, want 1", c.name, c.n, got)
		}
		var seen []string
		if err := db.gorm.Raw(`SELECT DISTINCT convert_from(value, 'UTF8') FROM settings WHERE name LIKE ?`, c.name+"_").Scan(&seen).Error; err != nil {
			t.Fatal(err)
		}
		if len(seen) != 1 || !strings.HasSuffix(seen[0], " "+c.want) {
			t.Errorf("%s: ran as %v (transaction, synchronous_commit), want one transaction with %s", c.name, seen, c.want)
		}
	}
}

// A pipeline with a failing statement is rolled back and its statements run
// again alone: only the failed one fails, the others commit once, and one
// whose caller gave up before its turn is not run. A consumption that finds
// its row used changes nothing, without failing its neighbours.
func TestPipelineFailsOnlyTheFailedStatement(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	if err := db.SaveChallenge(ctx, testChallenge("taken")); err != nil {
		t.Fatal(err)
	}
	if err := db.ConsumeChallenge(ctx, "taken", db.now()); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	jobs := []*pgJob{
		insertStatement(ctx, "a"),
		{ctx: ctx, query: consumeChallengeSQL, args: []any{db.nowMS(), "taken"}, done: make(chan pgResult, 1)},
		insertStatement(ctx, "taken"),
		insertStatement(canceled, "gone"),
		insertStatement(ctx, "b"),
	}
	db.tokenPipe.run(jobs)
	want := []struct {
		rows int64
		err  error
	}{{1, nil}, {0, nil}, {0, ErrConflict}, {0, context.Canceled}, {1, nil}}
	for i, j := range jobs {
		r := <-j.done
		if r.rows != want[i].rows || !errors.Is(r.err, want[i].err) {
			t.Errorf("statement %d: %d rows, %v; want %d rows, %v", i, r.rows, r.err, want[i].rows, want[i].err)
		}
	}
	for id, stored := range map[string]bool{"a": true, "b": true, "gone": false} {
		_, err := db.ChallengeByID(ctx, id)
		if stored != (err == nil) {
			t.Errorf("challenge %q: err = %v, want stored = %v", id, err, stored)
		}
	}
}

// Concurrent sign-in writes share pipelines, and each gets its own answer.
func TestPipelineGathersConcurrentWrites(t *testing.T) {
	db := openPostgres(t)
	ctx := context.Background()
	const n = 200
	sent := func() int64 { return db.challengePipe.batches.Load() + db.tokenPipe.batches.Load() }
	before := sent()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.SaveChallenge(ctx, testChallenge("c"+strconv.Itoa(i))); err != nil {
				t.Error(err)
			}
			// Every challenge is consumed once: the second try finds it used.
			for try, want := range []int64{1, 0} {
				n, err := db.tokenPipe.exec(ctx, "challenges c"+strconv.Itoa(i), consumeChallengeSQL, db.nowMS(), "c"+strconv.Itoa(i))
				if err != nil || n != want {
					t.Errorf("consume %d of c%d: %d rows, %v; want %d", try, i, n, err, want)
				}
			}
		}()
	}
	wg.Wait()
	if got := sent() - before; got >= 3*n {
		t.Errorf("%d statements took %d round trips: none were pipelined", 3*n, got)
	}
}

func TestPipelineAfterClose(t *testing.T) {
	db := openPostgres(t)
	db.Close()
	if err := db.SaveChallenge(context.Background(), testChallenge("late")); !errors.Is(err, errClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

// Two replicas whose pipelines consume the same two challenges, queued in
// opposite orders, do not deadlock: each pipeline locks rows in key order.
// (A deadlock would fail one pipeline, whose statements would then run
// again alone: more round trips than the two pipelines.)
func TestPipelinesOfTwoReplicasDoNotDeadlock(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	var replicas [2]*DB
	for i := range replicas {
		db, err := Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		replicas[i] = db
	}
	ctx := context.Background()
	for _, id := range []string{"c1", "c2"} {
		if err := replicas[0].SaveChallenge(ctx, testChallenge(id)); err != nil {
			t.Fatal(err)
		}
	}
	consume := func(db *DB, id string) *pgJob {
		return &pgJob{ctx: ctx, lock: "challenges " + id, query: consumeChallengeSQL, args: []any{db.nowMS(), id}, done: make(chan pgResult, 1)}
	}
	// The pause between the two consumptions lets both pipelines take their
	// first lock before either asks for its second.
	pause := func() *pgJob {
		return &pgJob{ctx: ctx, query: `SELECT pg_sleep(0.3)`, done: make(chan pgResult, 1)}
	}
	batches := [2][]*pgJob{
		{consume(replicas[0], "c1"), pause(), consume(replicas[0], "c2")},
		{consume(replicas[1], "c2"), pause(), consume(replicas[1], "c1")},
	}
	before := replicas[0].tokenPipe.batches.Load() + replicas[1].tokenPipe.batches.Load()
	var wg sync.WaitGroup
	for i, db := range replicas {
		wg.Add(1)
		go func() { defer wg.Done(); db.tokenPipe.run(batches[i]) }()
	}
	wg.Wait()
	if got := replicas[0].tokenPipe.batches.Load() + replicas[1].tokenPipe.batches.Load() - before; got != 2 {
		t.Errorf("two pipelines took %d round trips, want 2 (a deadlock made one run again)", got)
	}
	// Each challenge was consumed exactly once, by whichever got it first.
	won := map[string]int64{}
	for i, batch := range batches {
		for _, j := range batch {
			r := <-j.done
			if r.err != nil {
				t.Errorf("replica %d: %v", i, r.err)
			}
			if j.lock != "" {
				won[j.lock] += r.rows
			}
		}
	}
	if won["challenges c1"] != 1 || won["challenges c2"] != 1 {
		t.Errorf("consumptions: %v, want each challenge once", won)
	}
}
