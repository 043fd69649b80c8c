package storage

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// SQLite takes one writer at a time, and under load the write connection
// was the queue every sign-in stood in: in the headless benchmark with 8
// clients, half of all writes waited for it, 12 ms on average, because
// whichever goroutine held it also had to wait its turn for a CPU between
// statements. So on SQLite the sign-in writes go to one goroutine that
// commits whatever has queued up in one transaction (group commit): while it
// works, the next writes gather, and they share one BEGIN, one COMMIT and
// the WAL pages they touch in common. Each write runs inside its own
// savepoint, so one that fails (a challenge already used, say) is rolled back
// alone, and none is reported done before its transaction commits. A write
// whose caller has gone away is skipped if it has not started; once started,
// it runs to the end (its statements take well under a millisecond), so a
// late cancellation cannot interrupt a neighbour's statement on the shared
// connection.

// maxBatch bounds how many writes share one transaction.
const maxBatch = 64

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
	jobs chan *writeJob
	stop chan struct{}
	done chan struct{}
}

func (db *DB) startBatcher() {
	b := &batcher{jobs: make(chan *writeJob), stop: make(chan struct{}), done: make(chan struct{})}
	db.batch = b
	go func() {
		defer close(b.done)
		batch := make([]*writeJob, 0, maxBatch)
		for {
			select {
			case <-b.stop:
				return
			case j := <-b.jobs:
				batch = append(batch[:0], j)
			}
		gather:
			for len(batch) < maxBatch {
				select {
				case j := <-b.jobs:
					batch = append(batch, j)
				default:
					break gather
				}
			}
			db.runBatch(batch)
		}
	}()
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
func (db *DB) runBatch(batch []*writeJob) {
	results := make([]error, len(batch))
	err := db.gorm.Transaction(func(tx *gorm.DB) error {
		p := tx.Statement.ConnPool
		if len(batch) == 1 {
			j := batch[0]
			if err := j.ctx.Err(); err != nil {
				results[0] = err
				return err
			}
			results[0] = j.fn(context.WithoutCancel(j.ctx), p)
			return results[0]
		}
		for i, j := range batch {
			if err := j.ctx.Err(); err != nil {
				results[i] = err
				continue
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
	if err != nil && !(len(batch) == 1 && err == results[0]) {
		err = db.failed(err) // the transaction itself failed
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
