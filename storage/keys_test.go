package storage_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/storage"
)

func testKey(id string, activeAt time.Time) *storage.SigningKey {
	return &storage.SigningKey{ID: id, Algorithm: "RS256", PublicJWK: []byte("{}"), PrivateKey: []byte{1}, CreatedAt: activeAt, ActiveAt: activeAt}
}

// Replicas starting together on an empty database each offer a first key;
// exactly one is stored.
func TestEnsureSigningKeyElectsOne(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		c := clocktest.New(time.Now())
		replicas := []*storage.DB{open(t, dsn, c), open(t, dsn, c)}
		var stored atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := replicas[i%2].EnsureSigningKey(context.Background(), testKey(fmt.Sprintf("k%d", i), c.Now()), c.Now())
				if err != nil {
					t.Error(err)
				}
				if ok {
					stored.Add(1)
				}
			}()
		}
		wg.Wait()
		keys, err := replicas[0].SigningKeys(context.Background(), c.Now())
		if err != nil {
			t.Fatal(err)
		}
		if stored.Load() != 1 || len(keys) != 1 {
			t.Fatalf("%d callers stored a key, %d keys stored; want 1 and 1", stored.Load(), len(keys))
		}
	})
}

// Only a key that signs now counts: not one that starts later, nor one
// already dropped from the JWKS.
func TestEnsureSigningKeyNeedsAUsableKey(t *testing.T) {
	ctx := context.Background()
	c := clocktest.New(time.Now())
	db := open(t, storagetest.SQLiteDSN(t), c)
	later := testKey("later", c.Now().Add(time.Hour))
	if err := db.CreateSigningKey(ctx, later); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.EnsureSigningKey(ctx, testKey("first", c.Now()), c.Now()); err != nil || !ok {
		t.Fatalf("with only a later key: stored %v, %v; want stored", ok, err)
	}
	if ok, err := db.EnsureSigningKey(ctx, testKey("second", c.Now()), c.Now()); err != nil || ok {
		t.Fatalf("with a usable key: stored %v, %v; want not stored", ok, err)
	}
	// Every key retired and, two hours on, dropped: a new key is needed.
	if err := db.RetireSigningKeys(ctx, c.Now().Add(2*time.Hour), c.Now(), c.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c.Advance(2 * time.Hour)
	if ok, err := db.EnsureSigningKey(ctx, testKey("third", c.Now()), c.Now()); err != nil || !ok {
		t.Fatalf("with every key dropped: stored %v, %v; want stored", ok, err)
	}
}
