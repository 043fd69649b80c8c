package storage_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

func open(t *testing.T, dsn string, c *clocktest.Clock) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), dsn, storage.WithClock(c.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore is the conformance suite every backend must pass.
func TestStore(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		c := clocktest.New(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
		db := open(t, dsn, c)
		t.Run("migrate again keeps data", func(t *testing.T) { testMigrateTwice(t, dsn, db, c) })
		t.Run("clients", func(t *testing.T) { testClients(t, db) })
		t.Run("challenges", func(t *testing.T) { testChallenges(t, db, c) })
		t.Run("challenge consumed once under concurrency", func(t *testing.T) { testChallengeRace(t, db, c) })
		t.Run("tokens redeem a challenge", func(t *testing.T) { testTokensRedeemChallenge(t, db, c) })
		t.Run("challenge redeemed once under concurrency", func(t *testing.T) { testChallengeTokensRace(t, db, c) })
		t.Run("auth request and code", func(t *testing.T) { testAuthRequestCode(t, db, c) })
		t.Run("code redeemed once under concurrency", func(t *testing.T) { testCodeRace(t, db, c) })
		t.Run("refresh rotation", func(t *testing.T) { testRefreshRotation(t, db, c) })
		t.Run("refresh rotated once under concurrency", func(t *testing.T) { testRefreshRace(t, db, c) })
		t.Run("signing keys", func(t *testing.T) { testKeys(t, db, c) })
		t.Run("settings agree", func(t *testing.T) { testSettings(t, db) })
		t.Run("sweep", func(t *testing.T) { testSweep(t, db, c) })
	})
}

func testMigrateTwice(t *testing.T, dsn string, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	if err := db.CreateClient(ctx, &clients.Client{ID: "keep-me", Name: "Keep", RedirectURIs: []string{"https://a.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	again := open(t, dsn, c)
	got, err := again.GetClient(ctx, "keep-me")
	if err != nil || got.Name != "Keep" {
		t.Fatalf("after a second migration: %v %v", got, err)
	}
}

func testClients(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	signer := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	in := &clients.Client{
		ID: "app1", Name: "App One", SecretHash: "sha256:00", RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb2"},
		PostLogoutRedirectURIs: []string{"https://a.example/bye"}, Scopes: []string{"openid", "siwe"},
		AccessTokenTTL: 90 * time.Second, IDTokenTTL: time.Hour, RefreshTokenTTL: 48 * time.Hour,
		LicenseChainID: 137, Signers: []common.Address{signer},
		AgentRegistries: []siwe.Registry{{ChainID: 84532, Address: common.HexToAddress("0x8004A818BFB912233c491871b3d84c89A494BD9e")}}, AgentOffline: true,
		CreatedAt: time.Unix(1700000000, 0).UTC(), UpdatedAt: time.Unix(1700000001, 0).UTC(),
	}
	if err := db.CreateClient(ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateClient(ctx, in); !errors.Is(err, clients.ErrClientExists) {
		t.Fatalf("duplicate create: %v, want ErrClientExists", err)
	}
	got, err := db.GetClient(ctx, "app1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != in.Name || got.AccessTokenTTL != in.AccessTokenTTL || got.RefreshTokenTTL != in.RefreshTokenTTL ||
		len(got.RedirectURIs) != 2 || got.Signers[0] != signer || got.LicenseChainID != 137 || !got.CreatedAt.Equal(in.CreatedAt) ||
		!slices.Equal(got.AgentRegistries, in.AgentRegistries) || !got.AgentOffline {
		t.Fatalf("round trip: %+v", got)
	}
	got.Name = "Renamed"
	got.RedirectURIs = []string{"https://b.example/cb"}
	if err := db.UpdateClient(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, _ := db.GetClient(ctx, "app1")
	if again.Name != "Renamed" || len(again.RedirectURIs) != 1 || !again.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("after update: %+v", again)
	}
	if err := db.UpdateClient(ctx, &clients.Client{ID: "ghost", Name: "x"}); !errors.Is(err, clients.ErrClientNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	list, err := db.ListClients(ctx)
	if err != nil || len(list) < 1 {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := db.DeleteClient(ctx, "app1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetClient(ctx, "app1"); !errors.Is(err, clients.ErrClientNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := db.DeleteClient(ctx, "app1"); !errors.Is(err, clients.ErrClientNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	// The registry works over the real store, too.
	reg := clients.NewRegistry(db)
	cl, secret, err := reg.Add(ctx, clients.Params{Name: "Reg", RedirectURIs: []string{"https://r.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := reg.Get(ctx, cl.ID); err != nil || !stored.CheckSecret(secret) {
		t.Fatalf("the stored client does not take its secret: %v", err)
	}
}

func newChallenge(c *clocktest.Clock, id, nonce string) *siwe.Challenge {
	return &siwe.Challenge{
		ID: id, Nonce: nonce, Message: "msg " + nonce, Address: common.HexToAddress("0x00000000000000000000000000000000000000b2"),
		ChainID: 1, ClientID: "app", Scopes: []string{"openid"}, RedirectURI: "https://a.example/cb",
		IssuedAt: c.Now(), ExpiresAt: c.Now().Add(5 * time.Minute),
	}
}

func testChallenges(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	ch := newChallenge(c, "ch1", "nonce0000000000001")
	if err := db.SaveChallenge(ctx, ch); err != nil {
		t.Fatal(err)
	}
	byNonce, err := db.ChallengeByNonce(ctx, ch.Nonce)
	if err != nil || byNonce.ID != "ch1" || byNonce.Message != ch.Message || byNonce.Address != ch.Address || !byNonce.ExpiresAt.Equal(ch.ExpiresAt) {
		t.Fatalf("by nonce: %+v %v", byNonce, err)
	}
	if _, err := db.ChallengeByID(ctx, "nope"); !errors.Is(err, siwe.ErrChallengeNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if err := db.SaveChallenge(ctx, newChallenge(c, "ch1b", ch.Nonce)); err == nil {
		t.Fatal("a second challenge with the same nonce was stored")
	}
	if err := db.ConsumeChallenge(ctx, "ch1", c.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.ConsumeChallenge(ctx, "ch1", c.Now()); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("second consume: %v", err)
	}
	late := newChallenge(c, "ch2", "nonce0000000000002")
	_ = db.SaveChallenge(ctx, late)
	if err := db.ConsumeChallenge(ctx, "ch2", late.ExpiresAt); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("consume at expiry: %v", err)
	}
	n, err := db.Sweep(ctx, late.ExpiresAt.Add(time.Second))
	if err != nil || n < 2 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	for _, id := range []string{"ch1", "ch2"} {
		if _, err := db.ChallengeByID(ctx, id); !errors.Is(err, siwe.ErrChallengeNotFound) {
			t.Fatalf("expired challenge %s after the sweep: %v", id, err)
		}
	}
}

func testChallengeRace(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	_ = db.SaveChallenge(ctx, newChallenge(c, "race", "nonce0000000race01"))
	oneWins(t, 50, "consumptions", siwe.ErrChallengeUsed, func(int) error {
		return db.ConsumeChallenge(ctx, "race", c.Now())
	})
}

// headlessWrite is a headless sign-in's issuance: a new login and its
// access token, redeeming challenge.
func headlessWrite(c *clocktest.Clock, challenge, suffix string) storage.TokenWrite {
	login := &storage.Login{ID: "login-" + suffix, Subject: "eip155:1:0xB2", Address: "0xB2", ChainID: 1, AuthTime: c.Now(), ExpiresAt: c.Now().Add(time.Hour),
		AgentRegistry: "eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e", AgentID: 9007199254740993, AgentVerified: "onchain",
		AgentName: "Agent Smith", AgentServices: `[{"name":"A2A","endpoint":"https://agent.example/a2a"}]`}
	return storage.TokenWrite{Challenge: challenge, Login: login, Access: token(c, "at-"+suffix, storage.KindAccess, login.ID, "", "")}
}

func testTokensRedeemChallenge(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	_ = db.SaveChallenge(ctx, newChallenge(c, "hl1", "nonce00000000hl001"))
	if err := db.CreateTokens(ctx, headlessWrite(c, "hl1", "hl1-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TokenByID(ctx, "at-hl1-a"); err != nil {
		t.Fatalf("token of the first redemption: %v", err)
	}
	// The login keeps the agent of an agent sign-in, whichever way it was written.
	want := headlessWrite(c, "hl1", "hl1-a").Login
	if l, err := db.Login(ctx, "login-hl1-a"); err != nil || l.AgentRegistry != want.AgentRegistry || l.AgentID != want.AgentID ||
		l.AgentVerified != want.AgentVerified || l.AgentName != want.AgentName || l.AgentServices != want.AgentServices {
		t.Fatalf("login of an agent sign-in: %+v, %v", l, err)
	}
	// A headless token has no authorization request and no refresh family:
	// revoking "the tokens of" an empty one revokes nothing.
	if err := db.RevokeFamily(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeAuthRequestTokens(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if tok, err := db.TokenByID(ctx, "at-hl1-a"); err != nil || !tok.RevokedAt.IsZero() {
		t.Fatalf("headless token after revoking an empty family and request: %+v, %v", tok, err)
	}
	// Second redemption: refused, and nothing of it stored.
	if err := db.CreateTokens(ctx, headlessWrite(c, "hl1", "hl1-b")); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("second redemption: %v", err)
	}
	if _, err := db.TokenByID(ctx, "at-hl1-b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token of a refused redemption: %v", err)
	}
	if _, err := db.Login(ctx, "login-hl1-b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("login of a refused redemption: %v", err)
	}
	if err := db.ConsumeChallenge(ctx, "hl1", c.Now()); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("consume after redemption: %v", err)
	}
	// An expired challenge redeems nothing; an unknown one neither.
	late := newChallenge(c, "hl2", "nonce00000000hl002")
	_ = db.SaveChallenge(ctx, late)
	c.Advance(late.ExpiresAt.Sub(c.Now()))
	if err := db.CreateTokens(ctx, headlessWrite(c, "hl2", "hl2")); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("expired challenge: %v", err)
	}
	if err := db.CreateTokens(ctx, headlessWrite(c, "hl-none", "hl-none")); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("unknown challenge: %v", err)
	}

	// With a refresh token: both tokens stored.
	_ = db.SaveChallenge(ctx, newChallenge(c, "hl3", "nonce00000000hl003"))
	w := headlessWrite(c, "hl3", "hl3")
	w.Refresh = token(c, "rt-hl3", storage.KindRefresh, w.Login.ID, "", "rt-hl3")
	if err := db.CreateTokens(ctx, w); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"at-hl3", "rt-hl3"} {
		if _, err := db.TokenByID(ctx, id); err != nil {
			t.Fatalf("token %s: %v", id, err)
		}
	}

	// A write that fails half-way (the login exists already) stores nothing
	// and leaves the challenge unused.
	_ = db.SaveChallenge(ctx, newChallenge(c, "hl4", "nonce00000000hl004"))
	w = headlessWrite(c, "hl4", "hl4")
	w.Login.ID = "login-hl3"
	if err := db.CreateTokens(ctx, w); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("write with a clashing login: %v", err)
	}
	if _, err := db.TokenByID(ctx, "at-hl4"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token of a failed write: %v", err)
	}
	if err := db.ConsumeChallenge(ctx, "hl4", c.Now()); err != nil {
		t.Fatalf("challenge after a failed write: %v", err)
	}
}

func testChallengeTokensRace(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	_ = db.SaveChallenge(ctx, newChallenge(c, "hl-race", "nonce00000hlrace01"))
	oneWins(t, 30, "redemptions", siwe.ErrChallengeUsed, func(i int) error {
		return db.CreateTokens(ctx, headlessWrite(c, "hl-race", "hl-race-"+strconv.Itoa(i)))
	})
}

// oneWins runs attempt n times at once and requires exactly one to succeed
// and every other to fail with lost.
func oneWins(t *testing.T, n int, what string, lost error, attempt func(i int) error) {
	t.Helper()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := attempt(i)
			if err == nil {
				wins.Add(1)
			} else if !errors.Is(err, lost) {
				t.Errorf("%s: %v", what, err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d %s won, want 1", wins.Load(), what)
	}
}

func completedRequest(t *testing.T, db *storage.DB, c *clocktest.Clock, id string) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateAuthRequest(ctx, &storage.AuthRequest{
		ID: id, ClientID: "app", RedirectURI: "https://a.example/cb", Scopes: []string{"openid"},
		CodeChallenge: "abc", CodeChallengeMethod: "S256", CreatedAt: c.Now(), ExpiresAt: c.Now().Add(10 * time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	ch := newChallenge(c, "ch-"+id, "nonce-"+id)
	if err := db.SaveChallenge(ctx, ch); err != nil {
		t.Fatal(err)
	}
	login := &storage.Login{ID: "login-" + id, Subject: "eip155:1:0xB2", Address: "0xB2", ChainID: 1, AuthTime: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}
	if err := db.CompleteAuthRequest(ctx, id, ch.ID, login); err != nil {
		t.Fatal(err)
	}
}

func token(c *clocktest.Clock, id, kind, login, authReq, family string) *storage.Token {
	return &storage.Token{ID: id, Kind: kind, ClientID: "app", Subject: "eip155:1:0xB2", Audience: []string{"app"},
		Scopes: []string{"openid"}, LoginID: login, AuthRequestID: authReq, FamilyID: family,
		CreatedAt: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}
}

func testAuthRequestCode(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	completedRequest(t, db, c, "ar1")
	again := &storage.Login{ID: "login-x", Subject: "s", Address: "a", ChainID: 1, AuthTime: c.Now(), ExpiresAt: c.Now()}
	fresh := newChallenge(c, "ch-ar1-again", "nonce-ar1-again")
	if err := db.SaveChallenge(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteAuthRequest(ctx, "ar1", fresh.ID, again); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second completion: %v", err)
	}
	// A used challenge completes nothing, even a pending request: the
	// challenge's single use holds by itself.
	pending := &storage.AuthRequest{ID: "ar-pending", ClientID: "app", RedirectURI: "https://a.example/cb", CreatedAt: c.Now(), ExpiresAt: c.Now().Add(time.Minute)}
	if err := db.CreateAuthRequest(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteAuthRequest(ctx, pending.ID, "ch-ar1", again); !errors.Is(err, siwe.ErrChallengeUsed) {
		t.Fatalf("completion with a used challenge: %v, want %v", err, siwe.ErrChallengeUsed)
	}
	if a, err := db.AuthRequestByID(ctx, pending.ID); err != nil || a.Login != nil {
		t.Fatalf("the pending request after a refused completion: %+v %v", a, err)
	}
	a, err := db.AuthRequestByID(ctx, "ar1")
	if err != nil || a.Login == nil || a.Login.ID != "login-ar1" || a.CodeChallengeMethod != "S256" {
		t.Fatalf("by id: %+v %v", a, err)
	}
	if err := db.SaveAuthCode(ctx, "ar1", "codehash1", c.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AuthRequestByCode(ctx, "codehash1"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateTokens(ctx, storage.TokenWrite{CodeOf: "ar1", Access: token(c, "at1", storage.KindAccess, "login-ar1", "ar1", "")}); err != nil {
		t.Fatal(err)
	}
	// Second exchange of the same code: refused, and the first token revoked.
	if err := db.CreateTokens(ctx, storage.TokenWrite{CodeOf: "ar1", Access: token(c, "at2", storage.KindAccess, "login-ar1", "ar1", "")}); !errors.Is(err, storage.ErrReused) {
		t.Fatalf("second redemption: %v", err)
	}
	if _, err := db.AuthRequestByCode(ctx, "codehash1"); !errors.Is(err, storage.ErrReused) {
		t.Fatalf("lookup of a used code: %v", err)
	}
	at, err := db.TokenByID(ctx, "at1")
	if err != nil || at.Active(c.Now()) || at.Login == nil {
		t.Fatalf("token of a replayed code: %+v %v", at, err)
	}
	// Expired code.
	completedRequest(t, db, c, "ar2")
	_ = db.SaveAuthCode(ctx, "ar2", "codehash2", c.Now().Add(time.Minute))
	c.Advance(time.Minute)
	if _, err := db.AuthRequestByCode(ctx, "codehash2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired code: %v", err)
	}
	if err := db.CreateTokens(ctx, storage.TokenWrite{CodeOf: "ar2", Access: token(c, "at3", storage.KindAccess, "login-ar2", "ar2", "")}); !errors.Is(err, storage.ErrReused) {
		t.Fatalf("tokens for an expired code: %v", err)
	}
}

func testCodeRace(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	completedRequest(t, db, c, "ar-race")
	_ = db.SaveAuthCode(ctx, "ar-race", "coderace", c.Now().Add(time.Minute))
	oneWins(t, 30, "redemptions", storage.ErrReused, func(i int) error {
		return db.CreateTokens(ctx, storage.TokenWrite{CodeOf: "ar-race", Access: token(c, "race-at-"+string(rune('a'+i)), storage.KindAccess, "login-ar-race", "ar-race", "")})
	})
}

func testRefreshRotation(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	completedRequest(t, db, c, "ar-rt")
	if err := db.CreateTokens(ctx, storage.TokenWrite{Access: token(c, "rt-at1", storage.KindAccess, "login-ar-rt", "ar-rt", "rt1"),
		Refresh: token(c, "rt1", storage.KindRefresh, "login-ar-rt", "ar-rt", "rt1")}); err != nil {
		t.Fatal(err)
	}
	if err := db.RotateRefreshToken(ctx, "rt1", token(c, "rt-at2", storage.KindAccess, "login-ar-rt", "ar-rt", "rt1"),
		token(c, "rt2", storage.KindRefresh, "login-ar-rt", "ar-rt", "rt1")); err != nil {
		t.Fatal(err)
	}
	err := db.RotateRefreshToken(ctx, "rt1", token(c, "rt-at3", storage.KindAccess, "login-ar-rt", "ar-rt", "rt1"),
		token(c, "rt3", storage.KindRefresh, "login-ar-rt", "ar-rt", "rt1"))
	if !errors.Is(err, storage.ErrReused) {
		t.Fatalf("reuse: %v", err)
	}
	for _, id := range []string{"rt1", "rt2", "rt-at1", "rt-at2"} {
		tk, err := db.TokenByID(ctx, id)
		if err != nil || tk.Active(c.Now()) {
			t.Fatalf("%s still active after reuse: %+v %v", id, tk, err)
		}
	}
	if _, err := db.TokenByID(ctx, "rt3"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a token was stored by the refused rotation: %v", err)
	}
	if err := db.RotateRefreshToken(ctx, "missing", token(c, "x1", storage.KindAccess, "l", "", "f"), token(c, "x2", storage.KindRefresh, "l", "", "f")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown refresh token: %v", err)
	}
}

func testRefreshRace(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	completedRequest(t, db, c, "ar-rr")
	_ = db.CreateTokens(ctx, storage.TokenWrite{Access: token(c, "rr-at", storage.KindAccess, "login-ar-rr", "ar-rr", "rr"), Refresh: token(c, "rr", storage.KindRefresh, "login-ar-rr", "ar-rr", "rr")})
	oneWins(t, 20, "rotations", storage.ErrReused, func(i int) error {
		s := string(rune('a' + i))
		return db.RotateRefreshToken(ctx, "rr", token(c, "rr-at-"+s, storage.KindAccess, "login-ar-rr", "ar-rr", "rr"), token(c, "rr-"+s, storage.KindRefresh, "login-ar-rr", "ar-rr", "rr"))
	})
}

func testKeys(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	k1 := &storage.SigningKey{ID: "k1", Algorithm: "RS256", PublicJWK: []byte("{}"), PrivateKey: []byte{1}, CreatedAt: c.Now(), ActiveAt: c.Now()}
	if err := db.CreateSigningKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	k2 := &storage.SigningKey{ID: "k2", Algorithm: "RS256", PublicJWK: []byte("{}"), PrivateKey: []byte{2}, CreatedAt: c.Now(), ActiveAt: c.Now().Add(time.Minute)}
	_ = db.CreateSigningKey(ctx, k2)
	if err := db.RetireSigningKeys(ctx, k2.ActiveAt, k2.ActiveAt, k2.ActiveAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := db.SigningKeys(ctx, c.Now())
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].DropAt.IsZero() || !keys[0].DropAt.IsZero() {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	keys, _ = db.SigningKeys(ctx, k2.ActiveAt.Add(time.Hour+time.Second))
	if len(keys) != 1 || keys[0].ID != "k2" {
		t.Fatalf("after the drop time: %+v", keys)
	}
}

func testSettings(t *testing.T, db *storage.DB) {
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([][]byte, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := db.EnsureSetting(ctx, "k", []byte{byte(i)})
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for _, v := range got {
		if len(v) != 1 || v[0] != got[0][0] {
			t.Fatalf("replicas disagree on a setting: %v", got)
		}
	}
}

func testSweep(t *testing.T, db *storage.DB, c *clocktest.Clock) {
	ctx := context.Background()
	_ = db.SaveChallenge(ctx, newChallenge(c, "sw", "nonce00000000sweep"))
	c.Advance(30 * 24 * time.Hour)
	n, err := db.Sweep(ctx, c.Now())
	if err != nil || n == 0 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := db.ChallengeByID(ctx, "sw"); !errors.Is(err, siwe.ErrChallengeNotFound) {
		t.Fatalf("expired challenge survived: %v", err)
	}
	if _, err := db.TokenByID(ctx, "at1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired token survived: %v", err)
	}
}

func TestClaimElectsOne(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		c := clocktest.New(time.Now())
		a, b := open(t, dsn, c), open(t, dsn, c)
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				db := a
				if i%2 == 1 {
					db = b
				}
				ok, err := db.Claim(context.Background(), "rotate-after:k1")
				if err != nil {
					t.Error(err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d claims won, want 1", wins.Load())
		}
	})
}

func TestErrorHookCountsFailures(t *testing.T) {
	c := clocktest.New(time.Now())
	var failures atomic.Int32
	db, err := storage.Open(context.Background(), storagetest.SQLiteDSN(t), storage.WithClock(c.Now), storage.WithErrorHook(func(error) { failures.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := db.GetClient(ctx, "missing"); !errors.Is(err, clients.ErrClientNotFound) {
		t.Fatal(err)
	}
	_ = db.CreateClient(ctx, &clients.Client{ID: "x", Name: "x"})
	_ = db.CreateClient(ctx, &clients.Client{ID: "x", Name: "x"})
	if failures.Load() != 0 {
		t.Fatalf("not-found and duplicate counted as failures: %d", failures.Load())
	}
	db.Close()
	if _, err := db.GetClient(ctx, "x"); err == nil {
		t.Fatal("query on a closed database succeeded")
	}
	if failures.Load() == 0 {
		t.Fatal("a failed query was not reported")
	}
}
