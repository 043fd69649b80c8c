package siwe

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/clocktest"
)

// siwaFixture is one message that @buildersgarden/siwa 0.0.24's
// signSIWAMessage built and signed (testdata/siwa/make-fixtures.mjs).
type siwaFixture struct {
	Name   string `json:"name"`
	Fields struct {
		Domain         string `json:"domain"`
		URI            string `json:"uri"`
		AgentID        int64  `json:"agentId"`
		AgentRegistry  string `json:"agentRegistry"`
		ChainID        int64  `json:"chainId"`
		Nonce          string `json:"nonce"`
		IssuedAt       string `json:"issuedAt"`
		ExpirationTime string `json:"expirationTime"`
		NotBefore      string `json:"notBefore"`
	} `json:"fields"`
	Address   string `json:"address"`
	Message   string `json:"message"`
	Signature string `json:"signature"`
}

func loadSIWAFixtures(t testing.TB) []siwaFixture {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "siwa", "fixtures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Fixtures []siwaFixture `json:"fixtures"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Fixtures) == 0 {
		t.Fatal("no fixtures")
	}
	return file.Fixtures
}

// TestSIWAFixturesVerify verifies, unchanged, messages that the SIWA
// package built and signed, each with a Verifier set up as the server that
// issued its nonce: its domain, URI and chain, a challenge with its nonce
// and times, and a clock inside its window.
func TestSIWAFixturesVerify(t *testing.T) {
	for _, fx := range loadSIWAFixtures(t) {
		t.Run(fx.Name, func(t *testing.T) {
			f := fx.Fields
			issued, err := time.Parse(time.RFC3339Nano, f.IssuedAt)
			if err != nil {
				t.Fatal(err)
			}
			expires, err := time.Parse(time.RFC3339Nano, f.ExpirationTime)
			if err != nil {
				t.Fatal(err)
			}
			store := newMemStore()
			clock := clocktest.New(issued.Add(10 * time.Second))
			v, err := NewVerifier(Config{Domain: f.Domain, URI: f.URI, ChainIDs: []int64{f.ChainID}}, store, WithClock(clock.Now))
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			c := &Challenge{ID: "fixture", Nonce: f.Nonce, Address: common.HexToAddress(fx.Address), ChainID: f.ChainID,
				ClientID: "agents", IssuedAt: issued, ExpiresAt: expires}
			if err := store.SaveChallenge(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			res, err := v.Verify(context.Background(), fx.Message, fx.Signature, Expect{ClientID: "agents", Headless: true, URI: f.URI, Agent: true})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			reg, err := ParseRegistry(f.AgentRegistry)
			if err != nil {
				t.Fatal(err)
			}
			if res.Agent == nil || *res.Agent != (Agent{ID: f.AgentID, Registry: reg}) || res.Address.Hex() != fx.Address ||
				res.Signer.Hex() != fx.Address || res.ChainID != f.ChainID {
				t.Fatalf("result %+v, agent %+v", res, res.Agent)
			}
			// The same bytes once more: the nonce is spent.
			if _, err := v.Verify(context.Background(), fx.Message, fx.Signature, Expect{URI: f.URI}); err != ErrChallengeReused {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

// TestSIWAFixturesOutsideTheirWindow: the same messages after their
// Expiration Time, or before their Not Before, are refused.
func TestSIWAFixturesOutsideTheirWindow(t *testing.T) {
	for _, fx := range loadSIWAFixtures(t) {
		f := fx.Fields
		issued, _ := time.Parse(time.RFC3339Nano, f.IssuedAt)
		expires, _ := time.Parse(time.RFC3339Nano, f.ExpirationTime)
		for _, at := range []time.Time{expires.Add(2 * DefaultSkew), issued.Add(-2 * DefaultSkew)} {
			store := newMemStore()
			v, err := NewVerifier(Config{Domain: f.Domain, URI: f.URI, ChainIDs: []int64{f.ChainID}}, store, WithClock(func() time.Time { return at }))
			if err != nil {
				t.Fatal(err)
			}
			c := &Challenge{ID: "fixture", Nonce: f.Nonce, Address: common.HexToAddress(fx.Address), ChainID: f.ChainID,
				IssuedAt: issued, ExpiresAt: expires.Add(time.Hour)}
			_ = store.SaveChallenge(context.Background(), c)
			_, err = v.Verify(context.Background(), fx.Message, fx.Signature, Expect{URI: f.URI})
			if e := checkErrorOf(t, err); e.Check != CheckExpired {
				t.Errorf("%s at %s: %v, want CheckExpired", fx.Name, at, e)
			}
		}
	}
}
