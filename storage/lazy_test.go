package storage

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/signet-id/signet/internal/storagetest"
)

// On PostgreSQL, challenges are stored on connections that commit without
// waiting for the WAL flush; everything else waits for it, whichever way a
// statement reaches the pool (gorm's statements or the hot path's ConnPool).
func TestPostgresStoresChallengesWithAsynchronousCommit(t *testing.T) {
	db, err := Open(context.Background(), storagetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	for _, c := range []struct {
		pool *gorm.DB
		name string
		want string
	}{{db.lazy, "challenge pool", "off"}, {db.gorm, "main pool", "on"}} {
		var viaGorm, viaConnPool string
		if err := c.pool.Raw("SHOW synchronous_commit").Scan(&viaGorm).Error; err != nil {
			t.Fatal(err)
		}
		if err := c.pool.ConnPool.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&viaConnPool); err != nil {
			t.Fatal(err)
		}
		if viaGorm != c.want || viaConnPool != c.want {
			t.Errorf("%s: synchronous_commit = %q (gorm), %q (ConnPool), want %q", c.name, viaGorm, viaConnPool, c.want)
		}
	}
	// A challenge stored there is seen at once by the other connections.
	if err := db.SaveChallenge(ctx, testChallenge("async")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChallengeByID(ctx, "async"); err != nil {
		t.Fatalf("challenge not visible: %v", err)
	}
}
