package siwe

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	siwego "github.com/spruceid/siwe-go"

	"github.com/signet-id/signet/internal/clocktest"
)

const (
	testDomain = "signet.example:8443"
	testURI    = "https://signet.example:8443/oidc"
)

// testStart is the fake clock's start; its sub-millisecond part checks that
// Issue writes and stores the same instant.
var testStart = time.Date(2025, 6, 1, 12, 0, 0, 123456789, time.UTC)

// testEnv is a Verifier wired to an in-memory store, a fake clock and a
// deterministic random source.
type testEnv struct {
	v     *Verifier
	store *memStore
	clock *clocktest.Clock
	key   *ecdsa.PrivateKey
	addr  common.Address
}

func testConfig() Config {
	return Config{Domain: testDomain, URI: testURI, ChainIDs: []int64{1, 137}}
}

func newTestEnv(t testing.TB, opts ...Option) *testEnv {
	t.Helper()
	return newTestEnvConfig(t, testConfig(), opts...)
}

func newTestEnvConfig(t testing.TB, cfg Config, opts ...Option) *testEnv {
	t.Helper()
	store := newMemStore()
	clock := clocktest.New(testStart)
	key := newKey(t)
	all := append([]Option{WithClock(clock.Now), WithRandom(rand.NewChaCha8([32]byte{1}))}, opts...)
	v, err := NewVerifier(cfg, store, all...)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return &testEnv{v: v, store: store, clock: clock, key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// issue issues a challenge for the env's key with client "app" and auth request "ar1".
func (e *testEnv) issue(t testing.TB) *Challenge {
	t.Helper()
	c, err := e.v.Issue(context.Background(), IssueRequest{
		Address:       e.addr.Hex(),
		ClientID:      "app",
		Scopes:        []string{"openid"},
		RedirectURI:   "https://app.example/cb",
		AuthRequestID: "ar1",
	})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return c
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	return key
}

// signRaw signs TextHash(text) and returns r||s||v with v of 0 or 1.
func signRaw(t testing.TB, key *ecdsa.PrivateKey, text string) []byte {
	t.Helper()
	h := TextHash([]byte(text))
	sig, err := crypto.Sign(h[:], key)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return sig
}

// sign returns the 0x-hex signature a wallet's personal_sign gives (v of 27 or 28).
func sign(t testing.TB, key *ecdsa.PrivateKey, text string) string {
	t.Helper()
	sig := signRaw(t, key, text)
	sig[64] += 27
	return "0x" + hex.EncodeToString(sig)
}

// agentMessage builds an EIP-4361 message for c as an agent would: its own
// statement and times, the challenge's nonce. edit may change the options.
func agentMessage(t testing.TB, c *Challenge, edit func(opts map[string]any)) string {
	t.Helper()
	opts := map[string]any{
		"chainId":   int(c.ChainID),
		"statement": "Agent 007 signs in to Signet",
		"issuedAt":  testStart.Add(-30 * time.Second).Format(time.RFC3339),
	}
	if edit != nil {
		edit(opts)
	}
	m, err := siwego.InitMessage(testDomain, c.Address.Hex(), testURI, c.Nonce, opts)
	if err != nil {
		t.Fatalf("InitMessage: %v", err)
	}
	return m.String()
}

// replaceOnce replaces exactly one occurrence of old in s, failing otherwise.
func replaceOnce(t testing.TB, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("%q occurs %d times in message:\n%s", old, n, s)
	}
	return strings.Replace(s, old, new, 1)
}

// wantError fails unless err is an *Error with the code whose description contains fragment.
func wantError(t testing.TB, err error, code Code, fragment string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *Error %v %q", err, err, code, fragment)
	}
	if e.Code != code || !strings.Contains(e.Description, fragment) {
		t.Fatalf("error = %v %q, want %v containing %q", e.Code, e.Description, code, fragment)
	}
	return e
}
