package apikeys

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/storage"
)

// world is Keys over a real SQLite file and client registry.
type world struct {
	keys  *Keys
	reg   *clients.Registry
	db    *storage.DB
	path  string
	clock *clocktest.Clock
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := clocktest.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	path := filepath.Join(t.TempDir(), "signet.db")
	db, err := storage.Open(context.Background(), "sqlite:"+path, storage.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := clients.NewRegistry(db, clients.WithClock(clock.Now))
	return &world{keys: New(Config{Store: db, Clients: reg, Now: clock.Now, Log: slog.New(slog.DiscardHandler)}), reg: reg, db: db, path: path, clock: clock}
}

func (w *world) client(t *testing.T, id, profile string, scopes ...string) *clients.Client {
	t.Helper()
	c, _, err := w.reg.Add(context.Background(), clients.Params{ID: id, Name: id, RedirectURIs: []string{"https://app.example/cb"}, Scopes: scopes, Profile: profile})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caller(clientID, subject string, scopes ...string) Caller {
	return Caller{Owner: Owner{ClientID: clientID, Subject: subject}, Scopes: scopes}
}

func TestShaped(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	for s, want := range map[string]bool{
		"sgk_" + hex64: true, "dob_ak_" + hex64: true,
		"sgk_" + hex64[:63]: false, "sgk_" + hex64 + "0": false, "sgk_" + strings.ToUpper(hex64): false,
		"xyz_" + hex64: false, hex64: false, "srt_" + hex64: false, "eyJhbGciOi.x.y": false, "": false,
	} {
		if got := Shaped(s); got != want {
			t.Errorf("Shaped(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestCreateShowsTheKeyOnce: a key is its client's prefix and 64 hex
// digits; it is returned by Create only, and is never listed.
func TestCreateShowsTheKeyOnce(t *testing.T) {
	w := newWorld(t)
	w.client(t, "app", "", "read")
	w.client(t, "dob-app", "dob", "read")
	ctx := context.Background()
	k, err := w.keys.Create(ctx, caller("app", "eip155:1:0xA", "read"), "ci", []string{"read"})
	if err != nil || !Shaped(k.Value) || !strings.HasPrefix(k.Value, "sgk_") || !validID(k.ID) {
		t.Fatalf("Create: %+v, %v", k, err)
	}
	d, err := w.keys.Create(ctx, caller("dob-app", "eip155:1:0xA", "read"), "", nil)
	if err != nil || !strings.HasPrefix(d.Value, "dob_ak_") || !Shaped(d.Value) {
		t.Fatalf("a dob client's key: %+v, %v", d, err)
	}
	list, err := w.keys.List(ctx, Owner{"app", "eip155:1:0xA"})
	if err != nil || len(list) != 1 || list[0].ID != k.ID || list[0].Label != "ci" {
		t.Fatalf("List: %+v, %v", list, err)
	}
	if _, err := New(Config{Store: w.db, Clients: w.reg, Random: iotest.ErrReader(errors.New("no entropy"))}).
		Create(ctx, caller("app", "eip155:1:0xA"), "", nil); err == nil {
		t.Fatal("Create without randomness did not fail")
	}
}

// TestCreateRules: labels, scopes and the number of active keys.
func TestCreateRules(t *testing.T) {
	w := newWorld(t)
	w.client(t, "app", "", "read", "trade")
	ctx := context.Background()
	c := caller("app", "eip155:1:0xA", "openid", "read", "trade")
	for name, tc := range map[string]struct {
		label  string
		scopes []string
		code   string
		status int
	}{
		"label of 101 characters": {strings.Repeat("x", 101), nil, "invalid_request", 400},
		"label with a newline":    {"a\nb", nil, "invalid_request", 400},
		"OpenID scope":            {"", []string{"openid"}, "invalid_scope", 400},
		"scope the client lacks":  {"", []string{"withdraw"}, "invalid_scope", 400},
		"malformed scope":         {"", []string{"Read"}, "invalid_scope", 400},
	} {
		_, err := w.keys.Create(ctx, c, tc.label, tc.scopes)
		if e := httpapi.From(err); e.Code != tc.code || e.Status != tc.status {
			t.Errorf("%s: %v, want %d %s", name, err, tc.status, tc.code)
		}
	}
	_, err := w.keys.Create(ctx, caller("app", "eip155:1:0xA", "read"), "", []string{"trade"})
	if e := httpapi.From(err); e.Code != "insufficient_scope" || e.Status != 403 {
		t.Fatalf("a scope the token lacks: %v", err)
	}
	for i := range MaxActive {
		if _, err := w.keys.Create(ctx, c, "", []string{"read"}); err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
	if _, err := w.keys.Create(ctx, c, "", nil); httpapi.From(err).Status != 400 {
		t.Fatalf("key %d: %v, want 400", MaxActive+1, err)
	}
	if _, err := w.keys.Create(ctx, caller("app", "eip155:1:0xB"), "", nil); err != nil {
		t.Fatalf("another wallet's first key: %v", err)
	}
}

// TestCheck: a key is active for its own client, while not revoked, while
// that client exists (and is the one it was made for); its scopes are
// those the client still has.
func TestCheck(t *testing.T) {
	w := newWorld(t)
	w.client(t, "app", "", "read", "trade")
	w.client(t, "other", "", "read", "trade")
	ctx := context.Background()
	k, err := w.keys.Create(ctx, caller("app", "eip155:1:0xA", "read", "trade"), "", []string{"read", "trade"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := w.keys.Check(ctx, k.Value, "app", "test")
	if err != nil || a.ID != k.ID || a.Subject != "eip155:1:0xA" || a.ClientID != "app" || strings.Join(a.Scopes, " ") != "read trade" {
		t.Fatalf("Check: %+v, %v", a, err)
	}
	for name, raw := range map[string]string{"unknown key": "sgk_" + strings.Repeat("0", 64), "not a key": "hello"} {
		if _, err := w.keys.Check(ctx, raw, "app", "test"); !errors.Is(err, ErrInactive) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := w.keys.Check(ctx, k.Value, "other", "test"); !errors.Is(err, ErrInactive) {
		t.Fatalf("another client's check: %v", err)
	}
	if _, err := w.reg.Update(ctx, "app", clients.Changes{Scopes: &[]string{"trade"}}); err != nil {
		t.Fatal(err)
	}
	if a, _ := w.keys.Check(ctx, k.Value, "app", "test"); strings.Join(a.Scopes, " ") != "trade" {
		t.Fatalf("after the client lost read: %v", a.Scopes)
	}
	// A client removed and registered again under the same ID does not
	// inherit the keys of the one before.
	if err := w.reg.Remove(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.keys.Check(ctx, k.Value, "app", "test"); !errors.Is(err, ErrInactive) {
		t.Fatalf("the key of a removed client: %v", err)
	}
	w.clock.Advance(time.Second)
	w.client(t, "app", "", "read", "trade")
	if _, err := w.keys.Check(ctx, k.Value, "app", "test"); !errors.Is(err, ErrInactive) {
		t.Fatalf("the key of a client's predecessor: %v", err)
	}
	if list, _ := w.keys.List(ctx, Owner{"app", "eip155:1:0xA"}); len(list) != 0 {
		t.Fatalf("the predecessor's keys are listed: %v", list)
	}
}

// TestRevokeAndRotate: both act on the wallet's own active keys only, and
// end the old key at once.
func TestRevokeAndRotate(t *testing.T) {
	w := newWorld(t)
	w.client(t, "app", "", "read")
	ctx := context.Background()
	c := caller("app", "eip155:1:0xA", "read")
	k, _ := w.keys.Create(ctx, c, "bot", []string{"read"})
	if _, err := w.keys.Rotate(ctx, caller("app", "eip155:1:0xB", "read"), k.ID); httpapi.From(err).Status != 404 {
		t.Fatalf("another wallet rotates: %v", err)
	}
	if _, err := w.keys.Rotate(ctx, caller("app", "eip155:1:0xA"), k.ID); httpapi.From(err).Code != "insufficient_scope" {
		t.Fatalf("a token without the key's scopes rotates: %v", err)
	}
	next, err := w.keys.Rotate(ctx, c, k.ID)
	if err != nil || next.Label != "bot" || next.RotatedFrom != k.ID || next.Value == k.Value {
		t.Fatalf("Rotate: %+v, %v", next, err)
	}
	if _, err := w.keys.Check(ctx, k.Value, "app", "test"); !errors.Is(err, ErrInactive) {
		t.Fatalf("the rotated-away key: %v", err)
	}
	if _, err := w.keys.Rotate(ctx, c, k.ID); httpapi.From(err).Status != 404 {
		t.Fatalf("rotate the rotated-away key: %v", err)
	}
	if err := w.keys.Revoke(ctx, Owner{"app", "eip155:1:0xB"}, next.ID); httpapi.From(err).Status != 404 {
		t.Fatalf("another wallet revokes: %v", err)
	}
	if err := w.keys.Revoke(ctx, c.Owner, next.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.keys.Check(ctx, next.Value, "app", "test"); !errors.Is(err, ErrInactive) {
		t.Fatalf("the revoked key: %v", err)
	}
}

func TestNarrow(t *testing.T) {
	a := &Active{Scopes: []string{"read", "trade"}}
	if got, err := Narrow(a, nil); err != nil || strings.Join(got, " ") != "read trade" {
		t.Fatalf("none asked: %v, %v", got, err)
	}
	if got, err := Narrow(a, []string{"trade", "trade"}); err != nil || strings.Join(got, " ") != "trade" {
		t.Fatalf("one asked: %v, %v", got, err)
	}
	if _, err := Narrow(a, []string{"read", "withdraw"}); httpapi.From(err).Code != "invalid_scope" {
		t.Fatalf("more asked: %v", err)
	}
}

// TestOnlyTheHashIsStored reads the database file beside the store, as
// whoever steals it would: no column of any row holds a key or a piece of
// one; the SHA-256 of each key is there.
func TestOnlyTheHashIsStored(t *testing.T) {
	w := newWorld(t)
	w.client(t, "app", "", "read")
	ctx := context.Background()
	c := caller("app", "eip155:1:0xA", "read")
	k, _ := w.keys.Create(ctx, c, "bot", []string{"read"})
	next, err := w.keys.Rotate(ctx, c, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The "sqlite" driver is registered by the storage package's.
	raw, err := sql.Open("sqlite", "file:"+w.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query("SELECT * FROM api_keys")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var cells []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			cells = append(cells, v.String)
		}
	}
	for _, key := range []string{k.Value, next.Value} {
		secret := strings.TrimPrefix(key, "sgk_")
		for i := 0; i+16 <= len(secret); i += 8 {
			for _, cell := range cells {
				if strings.Contains(cell, secret[i:i+16]) {
					t.Fatalf("a stored value holds a piece of a key: %q", cell)
				}
			}
		}
		if !slices.Contains(cells, hash(key)) {
			t.Fatalf("the SHA-256 of %s… is not stored", key[:8])
		}
	}
}
