package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// On PostgreSQL a sign-in's statements cost the database server little to
// execute and much to receive: each one alone is a round trip (system calls
// and a wake-up on both sides) and a transaction of its own. pgbench on the
// challenge INSERT with 8 clients, the whole machine's CPU per row: 233 µs
// for one statement per round trip; 181 µs for four in one explicit
// transaction (still a round trip each); 85 µs for four pipelined, that is
// sent together and answered together as one implicit transaction. So the
// two statements every headless sign-in runs (storing its challenge, then
// consuming it or a code together with the tokens, see writeTokensOnce)
// queue for a goroutine, which sends whatever has queued as one pipeline
// while the previous pipeline is out: one round trip, one commit. There are
// two such queues, because new challenges are committed without waiting
// for the WAL flush (see openLazy) and consumptions are not.
//
// The statements are independent of each other, and a consumption that
// finds its row already used changes no row instead of failing, so a
// pipeline fails only on a real error. It is then rolled back as a whole
// (one implicit transaction), and each of its statements runs again alone,
// so that only the failed one fails. None is answered before its commit.
//
// Statements that consume a row (a challenge, a code) lock it until their
// pipeline commits. Two replicas whose pipelines consumed the same two rows
// in opposite orders (the same two challenges submitted to both at once)
// would deadlock, and PostgreSQL would break the tie only after a second;
// so each pipeline takes its locks in one order, that of the rows' keys.
//
// One pipeline at a time per queue keeps the batches as large as the load
// makes them. It runs on one server connection, which executes each of its
// statements in tens of microseconds: enough for thousands of sign-ins a
// second per replica, more than the signatures of a large machine allow.

// pipelineTimeout bounds one pipeline, so that a database that stops
// answering fails the writes queued behind it instead of holding them.
const pipelineTimeout = 30 * time.Second

// pgJob is one queued statement; what it changed, or its error, goes to done.
type pgJob struct {
	ctx   context.Context
	lock  string // the key of the row it consumes, if any
	query string
	args  []any
	done  chan pgResult
}

type pgResult struct {
	rows int64
	err  error
}

// pgBatcher sends PostgreSQL's queued sign-in statements as pipelines.
type pgBatcher struct {
	db      *DB
	pool    *gorm.DB
	jobs    chan *pgJob
	stop    chan struct{}
	done    chan struct{}
	batches atomic.Int64 // pipelines and lone statements sent, for tests
}

func (db *DB) startPipeline(pool *gorm.DB) *pgBatcher {
	b := &pgBatcher{db: db, pool: pool, jobs: make(chan *pgJob), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		batch := make([]*pgJob, 0, maxBatch)
		for {
			var ok bool
			if batch, ok = gather(b.jobs, b.stop, batch); !ok {
				return
			}
			b.run(batch)
		}
	}()
	return b
}

func (b *pgBatcher) close() {
	close(b.stop)
	<-b.done
}

// exec runs one statement in the next pipeline and returns the rows it
// changed. lock names the row it consumes ("" for none), as table and key.
func (b *pgBatcher) exec(ctx context.Context, lock, query string, args ...any) (int64, error) {
	j := &pgJob{ctx: ctx, lock: lock, query: query, args: args, done: make(chan pgResult, 1)}
	select {
	case b.jobs <- j:
	case <-b.stop:
		return 0, errClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once queued, the statement is waited for whatever the context says:
	// a caller must not believe a committed write failed.
	r := <-j.done
	return r.rows, r.err
}

// run sends the batch as one pipeline or, if that fails, each statement
// alone. A statement whose caller has gone away is not sent.
func (b *pgBatcher) run(batch []*pgJob) {
	live := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- pgResult{err: err}
			continue
		}
		live = append(live, j)
	}
	slices.SortStableFunc(live, func(a, b *pgJob) int { return strings.Compare(a.lock, b.lock) })
	if len(live) > 1 {
		b.batches.Add(1)
		if rows, err := b.pipeline(live); err == nil {
			for i, j := range live {
				j.done <- pgResult{rows: rows[i]}
			}
			return
		}
	}
	for _, j := range live {
		b.batches.Add(1)
		n, err := b.db.exec(j.ctx, b.pool.ConnPool, j.query, j.args...)
		j.done <- pgResult{rows: n, err: err}
	}
}

// pipeline sends the statements with one Sync, so that they run as one
// implicit transaction, and returns the rows each changed once all have
// committed.
func (b *pgBatcher) pipeline(batch []*pgJob) ([]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	sqlDB, err := b.pool.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	rows := make([]int64, len(batch))
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: unexpected PostgreSQL driver connection %T", dc)
		}
		var pb pgx.Batch
		for _, j := range batch {
			pb.Queue(j.query, j.args...)
		}
		res := c.Conn().SendBatch(ctx, &pb)
		var first error
		for i := range batch {
			tag, err := res.Exec()
			if err != nil && first == nil {
				first = err
			}
			rows[i] = tag.RowsAffected()
		}
		// Close reads the answer to the Sync, that is the commit.
		if err := res.Close(); err != nil && first == nil {
			first = err
		}
		return first
	})
	return rows, err
}
