package storage_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/stellartest"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/siwe/stellar"
)

// stellarAccount is the account of a new ed25519 key.
func stellarAccount(t *testing.T) stellar.Address {
	t.Helper()
	a, err := stellar.ParseAddress(stellartest.New(t).Address())
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// rawExec runs statements on dsn's database outside the store, as an older
// Signet (or an operator) would have.
func rawExec(t *testing.T, dsn string, statements ...string) {
	t.Helper()
	var d gorm.Dialector
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		d = sqlite.Open("file:" + path)
	} else {
		d = postgres.Open(dsn)
	}
	g, err := gorm.Open(d, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := g.DB()
	defer sqlDB.Close()
	for _, s := range statements {
		if err := g.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// TestOldDatabaseMigrates: a database whose challenges table predates the
// account column (Signet before Stellar accounts) gains it when opened,
// with its rows intact; then Stellar challenges and challenges listed by
// account round-trip. On SQLite and PostgreSQL.
func TestOldDatabaseMigrates(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		c := clocktest.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		old := newChallenge(c, "old1", "nonceold000000001")
		rawExec(t, dsn,
			`CREATE TABLE challenges (id varchar(64) PRIMARY KEY, nonce varchar(64) NOT NULL, message text NOT NULL,
				address varchar(42) NOT NULL, chain_id bigint NOT NULL, client_id varchar(128) NOT NULL, scopes text,
				redirect_uri text, auth_request_id varchar(64), issued_at bigint NOT NULL, expires_at bigint NOT NULL,
				used_at bigint NOT NULL DEFAULT 0)`,
			`CREATE UNIQUE INDEX idx_challenges_nonce ON challenges (nonce)`,
			`CREATE INDEX idx_challenges_expires_at ON challenges (expires_at)`,
			`INSERT INTO challenges VALUES ('old1', 'nonceold000000001', 'msg nonceold000000001', '`+old.Address.Hex()+`', 1, 'app',
				'["openid"]', 'https://a.example/cb', '', `+ms(old.IssuedAt)+`, `+ms(old.ExpiresAt)+`, 0)`)
		db := open(t, dsn, c)

		got, err := db.ChallengeByID(ctx, "old1")
		if err != nil || got.Address != old.Address || got.Message != old.Message || got.IsStellar() || got.ByAccount {
			t.Fatalf("the old challenge after migration: %+v %v", got, err)
		}
		if err := db.ConsumeChallenge(ctx, "old1", c.Now()); err != nil {
			t.Fatalf("consume the old challenge: %v", err)
		}
		s := listed(c, "st1", "noncestellar00001", "app", "")
		s.Stellar, s.Address, s.ChainID = stellarAccount(t), common.Address{}, 0
		if err := db.SaveChallenge(ctx, s); err != nil {
			t.Fatal(err)
		}
		got, err = db.ChallengeByNonce(ctx, s.Nonce)
		if err != nil || got.Stellar != s.Stellar || !got.ByAccount || got.Account() != s.Stellar.String() || got.Address != (common.Address{}) {
			t.Fatalf("a Stellar challenge after migration: %+v %v", got, err)
		}
		open(t, dsn, c) // and migrating once more changes nothing
		if list, err := db.OpenChallenges(ctx, "app", s.Stellar.String(), c.Now(), 5); err != nil || len(list) != 1 || list[0].ID != "st1" {
			t.Fatalf("open challenges of the Stellar account: %v %v", list, err)
		}
	})
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// listed is a challenge listed under its account, for client (and an
// authorization request, if any).
func listed(c *clocktest.Clock, id, nonce, client, authRequest string) *siwe.Challenge {
	ch := newChallenge(c, id, nonce)
	ch.ClientID, ch.AuthRequestID, ch.ByAccount = client, authRequest, true
	return ch
}

// TestOpenChallenges: a wallet's open challenges at a client are those
// listed under its account, for that client and no browser request,
// unused and unexpired, newest first, at most the limit. On SQLite and
// PostgreSQL.
func TestOpenChallenges(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		c := clocktest.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		db := open(t, dsn, c)
		wallet := newChallenge(c, "x", "x").Address.Hex()
		save := func(ch *siwe.Challenge) {
			t.Helper()
			if err := db.SaveChallenge(ctx, ch); err != nil {
				t.Fatal(err)
			}
		}
		save(listed(c, "w-old", "nonceopen000000001", "app", ""))
		c.Advance(time.Second)
		save(listed(c, "w-new", "nonceopen000000002", "app", ""))
		save(newChallenge(c, "w-plain", "nonceopen000000003"))
		save(listed(c, "w-other", "nonceopen000000004", "other", ""))
		save(listed(c, "w-browser", "nonceopen000000005", "app", "ar1"))
		save(listed(c, "w-used", "nonceopen000000006", "app", ""))
		if err := db.ConsumeChallenge(ctx, "w-used", c.Now()); err != nil {
			t.Fatal(err)
		}
		expired := listed(c, "w-expired", "nonceopen000000007", "app", "")
		expired.ExpiresAt = c.Now()
		save(expired)
		s := listed(c, "s-1", "nonceopen000000008", "app", "")
		s.Stellar, s.Address, s.ChainID = stellarAccount(t), common.Address{}, 0
		save(s)

		ids := func(account string, limit int) string {
			t.Helper()
			list, err := db.OpenChallenges(ctx, "app", account, c.Now(), limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ch := range list {
				out = append(out, ch.ID)
			}
			return strings.Join(out, " ")
		}
		if got := ids(wallet, 10); got != "w-new w-old" {
			t.Errorf("open challenges of the wallet: %q, want \"w-new w-old\"", got)
		}
		if got := ids(wallet, 1); got != "w-new" {
			t.Errorf("the newest open challenge: %q", got)
		}
		if got := ids(s.Stellar.String(), 10); got != "s-1" {
			t.Errorf("open challenges of the Stellar account: %q", got)
		}
		if got := ids("", 10); got != "" {
			t.Errorf("open challenges of no account: %q", got)
		}
		c.Advance(siwe.DefaultLifetime)
		if got := ids(wallet, 10); got != "" {
			t.Errorf("open challenges after their lifetime: %q", got)
		}
	})
}
