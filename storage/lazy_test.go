package storage

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/signet-id/signet/storage/storagetest"
)

// On PostgreSQL, challenges are stored on connections that commit without
// waiting for the WAL flush; everything else waits for it.
func TestPostgresStoresChallengesWithAsynchronousCommit(t *testing.T) {
	db, err := Open(context.Background(), storagetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		pool *gorm.DB
		name string
		want string
	}{{db.lazy, "challenge pool", "off"}, {db.gorm, "main pool", "on"}} {
		var got string
		if err := c.pool.Raw("SHOW synchronous_commit").Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: synchronous_commit = %q, want %q", c.name, got, c.want)
		}
	}
	// A challenge stored there is seen at once by the other connections.
	ctx := context.Background()
	if err := db.SaveChallenge(ctx, testChallenge("async")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChallengeByID(ctx, "async"); err != nil {
		t.Fatalf("challenge not visible: %v", err)
	}
}
