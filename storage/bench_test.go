package storage

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/op/floor"
	"github.com/signet-id/signet/siwe"
)

// BenchmarkHeadlessWrites: what one headless sign-in writes (its challenge,
// then the challenge consumed with the login and the access token), from 8
// concurrent writers on a SQLite file, with the rows keyed (and the
// challenges' nonces made) by random IDs and by time-ordered ones
// (siwe.OrderedID, as Signet makes them). Reports
// this process's CPU per sign-in: the database's share of a login.
//
//	go test -run '^$' -bench HeadlessWrites -benchtime 20000x ./storage/
func BenchmarkHeadlessWrites(b *testing.B) {
	for _, ordered := range []bool{false, true} {
		name := "ids=random"
		if ordered {
			name = "ids=ordered"
		}
		b.Run(name, func(b *testing.B) {
			db, _ := openSQLite(b)
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
			cpu0 := floor.ProcessCPU()
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
			cpu := floor.ProcessCPU() - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/login")
			b.ReportMetric(0, "ns/op")
		})
	}
}
