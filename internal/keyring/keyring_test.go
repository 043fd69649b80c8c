package keyring_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/storage"
)

// keyRing builds a key ring over db whose private keys are sealed with secret.
const testSecret = "test-secret-test-secret-test-secret-0123"

func keyRing(t *testing.T, db *storage.DB, secret string, clock *clocktest.Clock) *keyring.Ring {
	t.Helper()
	sealer, err := keyring.NewSealer(secret)
	if err != nil {
		t.Fatal(err)
	}
	return keyring.New(db, sealer, clock.Now, time.Hour)
}

// A ring on the wrong secret would seal a key that every replica on the
// right secret fails to open (and the other way round): it must refuse to
// rotate, and store nothing.
func TestWrongSecretCannotRotate(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Now())
	db, err := storage.Open(ctx, storagetest.SQLiteDSN(t), storage.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	right := keyRing(t, db, testSecret, clock)
	if err := right.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	wrong := keyRing(t, db, strings.Repeat("w", 40), clock)
	keys := func() int {
		list, err := right.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}

	if _, err := wrong.Rotate(ctx, 0, time.Hour); !errors.Is(err, keyring.ErrWrongSecret) {
		t.Fatalf("Rotate with the wrong secret: %v, want ErrWrongSecret", err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := wrong.RotateIfDue(ctx, time.Hour, 0, time.Hour); !errors.Is(err, keyring.ErrWrongSecret) {
		t.Fatalf("RotateIfDue with the wrong secret: %v, want ErrWrongSecret", err)
	}
	if err := wrong.Ensure(ctx); !errors.Is(err, keyring.ErrWrongSecret) {
		t.Fatalf("Ensure with the wrong secret: %v, want ErrWrongSecret", err)
	}
	if n := keys(); n != 1 {
		t.Fatalf("%d keys stored, want the first one only", n)
	}
	// The refused rotation did not use up the due rotation: a replica on the
	// right secret still performs it.
	k, err := right.RotateIfDue(ctx, time.Hour, 0, time.Hour)
	if err != nil || k == nil {
		t.Fatalf("RotateIfDue with the right secret: %v, %v", k, err)
	}
	if n := keys(); n != 2 {
		t.Fatalf("%d keys stored, want 2", n)
	}
}

// The stored crypto key (which seals codes and opaque tokens) is checked as
// well: a database that holds it but no signing key yet still refuses a
// ring on another secret.
func TestWrongSecretCannotOpenCryptoKey(t *testing.T) {
	ctx := context.Background()
	clock := clocktest.New(time.Now())
	db, err := storage.Open(ctx, storagetest.SQLiteDSN(t), storage.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, _ := keyring.NewSealer(testSecret)
	if _, err := keyring.LoadCryptoKey(ctx, db, sealer); err != nil {
		t.Fatal(err)
	}
	wrong := keyRing(t, db, strings.Repeat("w", 40), clock)
	if err := wrong.CheckSecret(ctx); !errors.Is(err, keyring.ErrWrongSecret) {
		t.Fatalf("CheckSecret: %v, want ErrWrongSecret", err)
	}
	if _, err := wrong.Rotate(ctx, 0, time.Hour); !errors.Is(err, keyring.ErrWrongSecret) {
		t.Fatalf("Rotate: %v, want ErrWrongSecret", err)
	}
	if err := keyRing(t, db, testSecret, clock).CheckSecret(ctx); err != nil {
		t.Fatalf("CheckSecret with the right secret: %v", err)
	}
}

// Replicas starting together on a database without a key elect one first
// key, and each signs with it and publishes it from the start.
func TestReplicasElectOneFirstKey(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clock := clocktest.New(time.Now())
		rings := make([]*keyring.Ring, 4)
		for i := range rings {
			db, err := storage.Open(ctx, dsn, storage.WithClock(clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			rings[i] = keyRing(t, db, testSecret, clock)
		}
		var wg sync.WaitGroup
		for _, r := range rings {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := r.Ensure(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		first, err := rings[0].SigningKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rings {
			sk, err := r.SigningKey(ctx)
			if err != nil {
				t.Fatal(err)
			}
			set, err := r.KeySet(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var published []string
			for _, k := range set {
				published = append(published, k.ID())
			}
			if sk.ID() != first.ID() || !slices.Equal(published, []string{first.ID()}) {
				t.Fatalf("replica %d signs with %s and publishes %v; replica 0 signs with %s", i, sk.ID(), published, first.ID())
			}
		}
	})
}
