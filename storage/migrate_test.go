package storage_test

import (
	"context"
	"sync"
	"testing"

	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/storage"
)

// Processes starting together on a fresh PostgreSQL database migrate it one
// at a time: none fails on a table or type another has just created.
func TestConcurrentOpenMigrates(t *testing.T) {
	dsn := storagetest.PostgresDSN(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := storage.Open(context.Background(), dsn)
			if err != nil {
				t.Error(err)
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
}
