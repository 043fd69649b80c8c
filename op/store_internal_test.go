package op

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// newInternalServer is a Server over a fresh SQLite file, for tests that
// call its parts directly.
func newInternalServer(t *testing.T) (*Server, *clients.Registry) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := keyring.NewSealer("internal-test-secret-internal-test-secret")
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.New(db, sealer, time.Now, time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	reg := clients.NewRegistry(db)
	cfg := DefaultConfig("http://127.0.0.1:9999")
	cfg.Insecure = true
	s, err := New(cfg, Deps{DB: db, Registry: reg, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// TestCodeRedeemedTwiceRevokes: two exchanges of one code that both got past
// the code lookup (they ran at once) race to consume it when their tokens
// are stored; the loser gets invalid_grant and revokes what the winner got
// (RFC 6749 §4.1.2).
func TestCodeRedeemedTwiceRevokes(t *testing.T) {
	s, reg := newInternalServer(t)
	ctx := zop.ContextWithIssuer(context.Background(), s.cfg.Issuer)
	c, _, err := reg.Add(ctx, clients.Params{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := &storage.AuthRequest{ID: "req", ClientID: c.ID, RedirectURI: "https://app.example/cb", ResponseType: "code",
		Scopes: []string{"openid"}, BindingHash: "x", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.db.CreateAuthRequest(ctx, a); err != nil {
		t.Fatal(err)
	}
	login := &storage.Login{ID: "login", Subject: "eip155:1:0x0000000000000000000000000000000000000001",
		Address: "0x0000000000000000000000000000000000000001", ChainID: 1, AuthTime: now, ExpiresAt: now.Add(time.Hour)}
	ch := &siwe.Challenge{ID: "ch", Nonce: "nonce0000000000000001", Message: "m", ClientID: c.ID, ChainID: 1, IssuedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := s.db.SaveChallenge(ctx, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.db.CompleteAuthRequest(ctx, a.ID, ch.ID, login); err != nil {
		t.Fatal(err)
	}
	if err := s.store.SaveAuthCode(ctx, a.ID, "code"); err != nil {
		t.Fatal(err)
	}
	found, err := s.store.AuthRequestByCode(ctx, "code")
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := s.store.CreateAccessToken(ctx, found)
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, _, err = s.store.CreateAccessToken(ctx, found)
	if oe, ok := err.(*oidc.Error); !ok || oe.ErrorType != oidc.InvalidGrant {
		t.Fatalf("second exchange of one code: %v, want invalid_grant", err)
	}
	tok, err := s.db.TokenByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Active(time.Now()) {
		t.Fatal("the first exchange's token is still active after the code was exchanged again")
	}
}
