package storage

import (
	"cmp"
	"context"
	"errors"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// SQLite takes one writer at a time, and under load the write connection
// was the queue every sign-in stood in: in the headless benchmark with 8
// clients, half of all writes waited for it, 12 ms on average, because
// whichever goroutine held it also had to wait its turn for a CPU between
// statements. So on SQLite the sign-in writes go to one goroutine that
// commits whatever has queued up in one transaction (group commit): while it
// works, the next writes gather, and they share one BEGIN, one COMMIT and
// the WAL pages they touch in common. One that fails (a challenge already
// used, say) is rolled back alone (see runBatch), and none is reported done
// before its transaction commits. A write
// whose caller has gone away is skipped if it has not started; once started,
// it runs to the end (its statements take well under a millisecond), so a
// late cancellation cannot interrupt a neighbour's statement on the shared
// connection.

// maxBatch bounds how many writes share one transaction.
const maxBatch = 64

// commitDelay bounds how long the writer waits for company (see Expect).
const commitDelay = time.Millisecond

// errClosed answers writes queued after Close.
var errClosed = errors.New("storage: database is closed")

// writeJob is one queued write: fn runs on the batch's transaction.
type writeJob struct {
	ctx  context.Context
	fn   func(ctx context.Context, p pool) error
	done chan error
}

// batcher owns the order of SQLite's batched writes.
type batcher struct {
	jobs    chan *writeJob
	stop    chan struct{}
	done    chan struct{}
	active  atomic.Int64  // requests in progress (see Expect)
	delay   time.Duration // commitDelay, or the DB's commitDelay in tests
	batches atomic.Int64  // transactions run, for tests
}

// Expect tells the database that a request which may write has begun; the
// function it returns says the request has ended. On SQLite, while more
// requests are in progress than writes have gathered, the writer waits up
// to commitDelay for theirs, so that they share one transaction: each
// transaction costs SQLite a BEGIN, a COMMIT and a WAL write of every page
// it touched, and under concurrent sign-ins most of them held one write.
// (BenchmarkHeadlessLogin with 8 clients, four runs each: floor/cpu 0.71
// against 0.69, p99 30-34 ms against 32-43 ms.) A lone request never
// waits: nobody else could join it.
func (db *DB) Expect() (done func()) {
	if db.batch == nil {
		return func() {}
	}
	db.batch.active.Add(1)
	return func() { db.batch.active.Add(-1) }
}

func (db *DB) startBatcher() {
	b := &batcher{jobs: make(chan *writeJob), stop: make(chan struct{}), done: make(chan struct{}), delay: cmp.Or(db.commitDelay, commitDelay)}
	db.batch = b
	go func() {
		defer close(b.done)
		batch := make([]*writeJob, 0, maxBatch)
		wait := time.NewTimer(b.delay)
		wait.Stop()
		for {
			var ok bool
			if batch, ok = gather(b.jobs, b.stop, batch); !ok {
				return
			}
			if int64(len(batch)) < b.active.Load() {
				wait.Reset(b.delay)
			delay:
				for len(batch) < maxBatch && int64(len(batch)) < b.active.Load() {
					select {
					case j := <-b.jobs:
						batch = append(batch, j)
					case <-wait.C:
						break delay
					}
				}
				wait.Stop()
			}
			db.runBatch(batch)
		}
	}()
}

// gather waits for a job, then takes the others already queued, up to
// maxBatch, into batch (reused); ok is false once stop is closed.
func gather[J any](jobs <-chan J, stop <-chan struct{}, batch []J) (_ []J, ok bool) {
	select {
	case <-stop:
		return batch, false
	case j := <-jobs:
		batch = append(batch[:0], j)
	}
	for len(batch) < maxBatch {
		select {
		case j := <-jobs:
			batch = append(batch, j)
		default:
			return batch, true
		}
	}
	return batch, true
}

func (b *batcher) close() {
	close(b.stop)
	<-b.done
}

// write runs fn in a transaction: on SQLite, in the next batch; on
// PostgreSQL, which has no single writer, in a transaction of its own.
func (db *DB) write(ctx context.Context, fn func(ctx context.Context, p pool) error) error {
	if db.batch == nil {
		return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			return fn(ctx, tx.Statement.ConnPool)
		})
	}
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case db.batch.jobs <- j:
	case <-db.batch.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the write is waited for whatever the context says: a
	// caller must not believe a committed write failed.
	return <-j.done
}

// runBatch commits the jobs in one transaction and tells each how it went.
//
// It first runs them all without savepoints: each savepoint costs SQLite a
// sub-journal of every page its job touches, which profiles showed at a
// fifth of the batch's CPU, and jobs almost never fail. If one does fail,
// the whole transaction is rolled back and the batch runs again with a
// savepoint around each job, so that only the failed one is undone.
func (db *DB) runBatch(batch []*writeJob) {
	db.batch.batches.Add(1)
	results := make([]error, len(batch))
	err := db.runJobs(batch, results, len(batch) > 1)
	if errors.Is(err, errRetryBatch) {
		clear(results)
		err = db.runJobs(batch, results, false)
	}
	for i, j := range batch {
		switch {
		case results[i] != nil:
			j.done <- results[i]
		case err != nil: // the transaction did not commit
			j.done <- err
		default:
			j.done <- nil
		}
	}
}

// errRetryBatch rolls back an optimistic batch in which a job failed.
var errRetryBatch = errors.New("storage: a batched write failed; retry the batch with savepoints")

// runJobs runs the jobs in one transaction, each in a savepoint of its own
// unless optimistic, and returns the transaction's error (nil when it
// committed), or errRetryBatch when an optimistic run had a job fail.
func (db *DB) runJobs(batch []*writeJob, results []error, optimistic bool) error {
	err := db.gorm.Transaction(func(tx *gorm.DB) error {
		p := tx.Statement.ConnPool
		for i, j := range batch {
			if err := j.ctx.Err(); err != nil {
				results[i] = err
				continue
			}
			if optimistic {
				if results[i] = j.fn(context.WithoutCancel(j.ctx), p); results[i] != nil {
					return errRetryBatch
				}
				continue
			}
			if len(batch) == 1 {
				results[i] = j.fn(context.WithoutCancel(j.ctx), p)
				return results[i]
			}
			if _, err := db.exec(context.Background(), p, "SAVEPOINT w"); err != nil {
				return err
			}
			if results[i] = j.fn(context.WithoutCancel(j.ctx), p); results[i] != nil {
				if _, err := db.exec(context.Background(), p, "ROLLBACK TO SAVEPOINT w"); err != nil {
					return err
				}
			}
			if _, err := db.exec(context.Background(), p, "RELEASE SAVEPOINT w"); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case err == nil, errors.Is(err, errRetryBatch):
		return err
	case len(batch) == 1 && err == results[0]:
		return nil // the one job's own error, which results already carries
	default:
		return db.failed(err) // the transaction itself failed
	}
}
