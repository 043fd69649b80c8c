package storage

import (
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"gorm.io/gorm"

	"github.com/signet-id/signet/internal/floor"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/siwe"
)

// BenchmarkHeadlessWrites: what one headless sign-in writes (its challenge,
// then the challenge consumed with the login and the access token), from 8
// concurrent writers. On a SQLite file it runs with the rows keyed (and the
// challenges' nonces made) by random IDs and by time-ordered ones
// (siwe.OrderedID, as Signet makes them); on PostgreSQL, when
// SIGNET_TEST_POSTGRES_DSN is set, with time-ordered ones. Reports this
// process's CPU per sign-in ("cpu-µs/login"), and the whole machine's
// ("machine-µs/login"), which counts PostgreSQL's processes too: the
// database's share of a login.
//
//	go test -run '^$' -bench HeadlessWrites -benchtime 20000x ./storage/
func BenchmarkHeadlessWrites(b *testing.B) {
	for _, ordered := range []bool{false, true} {
		name := "sqlite/ids=random"
		if ordered {
			name = "sqlite/ids=ordered"
		}
		b.Run(name, func(b *testing.B) {
			db, _ := openSQLite(b)
			benchHeadlessWrites(b, db, ordered)
		})
	}
	b.Run("postgres/ids=ordered", func(b *testing.B) {
		db, err := Open(context.Background(), storagetest.PostgresDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		benchHeadlessWrites(b, db, true)
	})
}

func benchHeadlessWrites(b *testing.B, db *DB, ordered bool) {
	newID := func() string {
		if ordered {
			return siwe.OrderedID(time.Now(), rand.Text())
		}
		return rand.Text() + rand.Text()[:10]
	}
	message := strings.Repeat("m", 400)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, machine0 := floor.ProcessCPU(), floor.MachineCPU()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				now := time.Now()
				c := &siwe.Challenge{ID: newID(), Nonce: newID(), Message: message,
					Address: common.HexToAddress("0xB2"), ChainID: 1, ClientID: "app",
					Scopes: []string{"openid"}, IssuedAt: now, ExpiresAt: now.Add(5 * time.Minute)}
				if err := db.SaveChallenge(ctx, c); err != nil {
					b.Error(err)
					return
				}
				l := &Login{ID: newID(), Subject: "eip155:1:" + c.Address.Hex(), Address: c.Address.Hex(), ChainID: 1,
					Message: message, Signature: "0x" + strings.Repeat("ab", 65), AMR: []string{"pop"},
					AuthTime: now, ExpiresAt: now.Add(time.Hour)}
				t := &Token{ID: newID(), Kind: KindAccess, ClientID: "app", Subject: l.Subject,
					Audience: []string{"app"}, Scopes: []string{"openid"}, LoginID: l.ID,
					CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := db.CreateTokens(ctx, TokenWrite{Challenge: c.ID, Login: l, Access: t}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cpu, machine := floor.ProcessCPU()-cpu0, floor.MachineCPU()-machine0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/login")
	b.ReportMetric(float64(machine.Microseconds())/float64(b.N), "machine-µs/login")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSweep: one sweep of 3,000 expired logins and their expired
// tokens beside 100,000 live tokens, on a SQLite file. The sweep holds
// SQLite's one write connection, so its time is how long sign-ins wait.
//
//	go test -run '^$' -bench Sweep -benchtime 3x ./storage/
func BenchmarkSweep(b *testing.B) {
	db, _ := openSQLite(b)
	ctx := context.Background()
	now := time.Now()
	past, future := toMS(now.Add(-time.Minute)), toMS(now.Add(time.Hour))
	seed := func(n int, row func(tx *gorm.DB, id string)) {
		tx := db.gorm.Begin()
		for i := range n {
			row(tx, strconv.Itoa(i))
		}
		if err := tx.Commit().Error; err != nil {
			b.Fatal(err)
		}
	}
	seed(100_000, func(tx *gorm.DB, id string) {
		tx.Exec(insertTokenSQL, "t"+id, KindAccess, "app", "s", "[]", "[]", "live", "", "", "", past, future, 0, 0)
	})
	for b.Loop() {
		b.StopTimer()
		seed(3000, func(tx *gorm.DB, id string) {
			tx.Exec(insertLoginSQL, "l"+id, "s", "a", 1, "", "", "m", "s", "[]", past, past, "", 0, "", "", "")
			tx.Exec(insertTokenSQL, "x"+id, KindAccess, "app", "s", "[]", "[]", "l"+id, "", "", "", past, past, 0, 0)
		})
		b.StartTimer()
		swept, err := db.Sweep(ctx, now)
		if err != nil || swept != 6000 {
			b.Fatalf("swept %d rows (%v), want 6000", swept, err)
		}
	}
}
