package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/storagetest"
)

// newAPIKey returns a key value as internal/apikeys makes them and its row.
func newAPIKey(c *clocktest.Clock, id, clientID, subject string) (string, *APIKey) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	value := "sgk_" + hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(value))
	return value, &APIKey{ID: id, ClientID: clientID, Subject: subject, Label: "ci", Scopes: []string{"read"},
		Hash: hex.EncodeToString(sum[:]), CreatedAt: c.Now()}
}

// TestAPIKeys is the API keys' part of the conformance suite, on SQLite
// files and PostgreSQL.
func TestAPIKeys(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		c := clocktest.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		db, err := Open(context.Background(), dsn, WithClock(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		t.Run("create, find, list", func(t *testing.T) { testAPIKeyCreate(t, db, c) })
		t.Run("only the SHA-256 is stored", func(t *testing.T) { testAPIKeyOnlyHashStored(t, db, c) })
		t.Run("revoke binds client and wallet", func(t *testing.T) { testAPIKeyRevoke(t, db, c) })
		t.Run("rotate is one transaction", func(t *testing.T) { testAPIKeyRotate(t, db, c) })
		t.Run("rotated once under concurrency", func(t *testing.T) { testAPIKeyRotateRace(t, db, c) })
		t.Run("limit holds under concurrency", func(t *testing.T) { testAPIKeyLimitRace(t, db, c) })
	})
}

func testAPIKeyCreate(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	_, k := newAPIKey(c, "key_create1", "app", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, k, 2); err != nil {
		t.Fatal(err)
	}
	got, err := db.APIKeyByHash(ctx, k.Hash)
	if err != nil || got.ID != k.ID || got.Subject != k.Subject || got.ClientID != "app" || got.Label != "ci" ||
		len(got.Scopes) != 1 || !got.CreatedAt.Equal(k.CreatedAt) || !got.Active() {
		t.Fatalf("by hash: %+v, %v", got, err)
	}
	if _, err := db.APIKeyByHash(ctx, strings.Repeat("0", 64)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown hash: %v", err)
	}
	_, same := newAPIKey(c, "key_create2", "app", "eip155:1:0xA")
	same.Hash = k.Hash
	if err := db.CreateAPIKey(ctx, same, 2); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second key with the same hash: %v, want ErrConflict", err)
	}
	_, second := newAPIKey(c, "key_create3", "app", "eip155:1:0xA")
	c.Advance(time.Second)
	second.CreatedAt = c.Now()
	if err := db.CreateAPIKey(ctx, second, 2); err != nil {
		t.Fatal(err)
	}
	_, third := newAPIKey(c, "key_create4", "app", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, third, 2); !errors.Is(err, ErrLimit) {
		t.Fatalf("a third active key with a limit of 2: %v, want ErrLimit", err)
	}
	// The limit is per wallet and client.
	for _, owner := range [][2]string{{"other-app", "eip155:1:0xA"}, {"app", "eip155:1:0xB"}} {
		_, k := newAPIKey(c, "key_"+owner[0]+owner[1], owner[0], owner[1])
		if err := db.CreateAPIKey(ctx, k, 2); err != nil {
			t.Fatalf("%v: %v", owner, err)
		}
	}
	list, err := db.ActiveAPIKeys(ctx, "app", "eip155:1:0xA")
	if err != nil || len(list) != 2 || list[0].ID != "key_create1" || list[1].ID != "key_create3" {
		t.Fatalf("list: %v, %v", list, err)
	}
	// A revoked key no longer counts, and is no longer listed.
	if err := db.RevokeAPIKey(ctx, "app", "eip155:1:0xA", "key_create1"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIKey(ctx, third, 2); err != nil {
		t.Fatalf("after a revocation: %v", err)
	}
	list, _ = db.ActiveAPIKeys(ctx, "app", "eip155:1:0xA")
	if len(list) != 2 || list[0].ID != "key_create3" || list[1].ID != "key_create4" {
		t.Fatalf("list after revocation: %v", list)
	}
}

// testAPIKeyOnlyHashStored reads every column of the table as the
// database returns it: the key appears nowhere, not even in part; its
// SHA-256 does.
func testAPIKeyOnlyHashStored(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	value, k := newAPIKey(c, "key_hashonly", "app-hash", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, k, 10); err != nil {
		t.Fatal(err)
	}
	next, n := newAPIKey(c, "key_hashonly2", "app-hash", "eip155:1:0xA")
	if err := db.RotateAPIKey(ctx, "app-hash", "eip155:1:0xA", k.ID, n); err != nil {
		t.Fatal(err)
	}
	rows, err := db.read.WithContext(ctx).Raw("SELECT * FROM api_keys WHERE client_id = ?", "app-hash").Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	hashes := 0
	for rows.Next() {
		cells := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, cell := range cells {
			text := fmt.Sprintf("%s", cell)
			for _, v := range []string{value, next} {
				// Any 16 hex digits of the key's random part would be a piece of it.
				for j := 4; j+16 <= len(v); j += 8 {
					if strings.Contains(text, v[j:j+16]) {
						t.Fatalf("column %s holds a piece of a key: %q", cols[i], text)
					}
				}
			}
			if text == k.Hash || text == n.Hash {
				hashes++
			}
		}
	}
	if hashes != 2 {
		t.Fatalf("%d stored SHA-256 hashes found, want 2", hashes)
	}
}

func testAPIKeyRevoke(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	_, k := newAPIKey(c, "key_revoke", "app-r", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, k, 10); err != nil {
		t.Fatal(err)
	}
	// A token exchanged for the key: its family is the key's ID.
	login := &Login{ID: "login-revoke", Subject: k.Subject, Address: "0xA", ChainID: 1, AuthTime: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}
	tok := &Token{ID: "tok-revoke", Kind: KindAccess, ClientID: "app-r", Subject: k.Subject, LoginID: login.ID, FamilyID: k.ID,
		CreatedAt: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}
	if err := db.CreateTokens(ctx, TokenWrite{Login: login, Access: tok}); err != nil {
		t.Fatal(err)
	}
	for _, wrong := range [][3]string{{"app-r", "eip155:1:0xB", k.ID}, {"other", k.Subject, k.ID}, {"app-r", k.Subject, "key_nope"}} {
		if err := db.RevokeAPIKey(ctx, wrong[0], wrong[1], wrong[2]); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoke as %v: %v, want ErrNotFound", wrong, err)
		}
	}
	if got, _ := db.APIKeyByHash(ctx, k.Hash); !got.Active() {
		t.Fatal("a refused revocation revoked the key")
	}
	c.Advance(time.Minute)
	if err := db.RevokeAPIKey(ctx, "app-r", k.Subject, k.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.APIKeyByHash(ctx, k.Hash); got.Active() || !got.RevokedAt.Equal(c.Now()) {
		t.Fatalf("after revocation: %+v", got)
	}
	if got, _ := db.TokenByID(ctx, tok.ID); got.Active(c.Now()) {
		t.Fatal("a token exchanged for the revoked key is still active")
	}
	if err := db.RevokeAPIKey(ctx, "app-r", k.Subject, k.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoke twice: %v", err)
	}
}

func testAPIKeyRotate(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	_, old := newAPIKey(c, "key_rot_old", "app-rot", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, old, 10); err != nil {
		t.Fatal(err)
	}
	_, next := newAPIKey(c, "key_rot_new", "app-rot", "eip155:1:0xA")
	next.RotatedFrom = old.ID
	// Another wallet cannot rotate it, and nothing of the attempt is stored.
	if err := db.RotateAPIKey(ctx, "app-rot", "eip155:1:0xB", old.ID, next); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotate as another wallet: %v", err)
	}
	if _, err := db.APIKeyByHash(ctx, next.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused rotation stored its new key: %v", err)
	}
	if err := db.RotateAPIKey(ctx, "app-rot", old.Subject, old.ID, next); err != nil {
		t.Fatal(err)
	}
	gotOld, _ := db.APIKeyByHash(ctx, old.Hash)
	gotNew, _ := db.APIKeyByHash(ctx, next.Hash)
	if gotOld.Active() || gotOld.ReplacedBy != next.ID || !gotNew.Active() || gotNew.RotatedFrom != old.ID {
		t.Fatalf("after rotation: old %+v new %+v", gotOld, gotNew)
	}
	// A failed insert undoes the revocation: the transaction is one.
	_, clash := newAPIKey(c, "key_rot_clash", "app-rot", "eip155:1:0xA")
	clash.Hash = old.Hash
	if err := db.RotateAPIKey(ctx, "app-rot", old.Subject, next.ID, clash); !errors.Is(err, ErrConflict) {
		t.Fatalf("rotation onto a clashing hash: %v", err)
	}
	if got, _ := db.APIKeyByHash(ctx, next.Hash); !got.Active() {
		t.Fatal("a failed rotation left its key revoked")
	}
}

func testAPIKeyRotateRace(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	_, k := newAPIKey(c, "key_race", "app-race", "eip155:1:0xA")
	if err := db.CreateAPIKey(ctx, k, 10); err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, next := newAPIKey(c, "key_race_"+strconv.Itoa(i), "app-race", k.Subject)
			switch err := db.RotateAPIKey(ctx, "app-race", k.Subject, k.ID, next); {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, ErrNotFound):
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d of 8 concurrent rotations of one key succeeded, want 1", won.Load())
	}
	if list, _ := db.ActiveAPIKeys(ctx, "app-race", k.Subject); len(list) != 1 {
		t.Fatalf("%d active keys after the race, want 1", len(list))
	}
}

func testAPIKeyLimitRace(t *testing.T, db *DB, c *clocktest.Clock) {
	ctx := context.Background()
	const limit, tries = 3, 24
	var made atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, k := newAPIKey(c, "key_limit_"+strconv.Itoa(i), "app-limit", "eip155:1:0xA")
			<-start
			switch err := db.CreateAPIKey(ctx, k, limit); {
			case err == nil:
				made.Add(1)
			case !errors.Is(err, ErrLimit):
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if made.Load() != limit {
		t.Fatalf("%d keys made by %d concurrent creations with a limit of %d", made.Load(), tries, limit)
	}
}
