package siwe

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	siwego "github.com/spruceid/siwe-go"
)

var alphanumericNonce = regexp.MustCompile(`^[A-Za-z0-9]{16,}$`)

func TestIssue(t *testing.T) {
	env := newTestEnv(t)
	ctx := context.Background()
	c, err := env.v.Issue(ctx, IssueRequest{
		Address:       strings.ToLower(env.addr.Hex()),
		ChainID:       137,
		ClientID:      "app",
		Scopes:        []string{"openid", "profile"},
		RedirectURI:   "https://app.example/cb",
		AuthRequestID: "ar1",
	})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}

	m, err := siwego.ParseMessage(c.Message)
	if err != nil {
		t.Fatalf("issued message does not parse with siwe-go: %v\n%s", err, c.Message)
	}
	wantIssued := testStart.Truncate(time.Millisecond)
	wantExpires := wantIssued.Add(DefaultLifetime)
	uri := m.GetURI()
	for _, check := range []struct{ name, got, want string }{
		{"domain", m.GetDomain(), testDomain},
		{"address", m.GetAddress().Hex(), env.addr.Hex()},
		{"uri", uri.String(), testURI},
		{"version", m.GetVersion(), "1"},
		{"nonce", m.GetNonce(), c.Nonce},
		{"issued at", m.GetIssuedAt(), "2025-06-01T12:00:00.123Z"},
		{"expiration time", deref(m.GetExpirationTime()), "2025-06-01T12:05:00.123Z"},
	} {
		if check.got != check.want {
			t.Errorf("%s = %q, want %q", check.name, check.got, check.want)
		}
	}
	if m.GetChainID() != 137 || c.ChainID != 137 {
		t.Errorf("chain ID = %d (challenge %d), want 137", m.GetChainID(), c.ChainID)
	}
	if !strings.Contains(c.Message, "\n"+env.addr.Hex()+"\n") {
		t.Errorf("address is not written in EIP-55 form:\n%s", c.Message)
	}
	prefix := OrderedID(wantIssued, "")
	nonceRandom, ok := strings.CutPrefix(c.Nonce, prefix)
	if !ok || !alphanumericNonce.MatchString(nonceRandom) || !alphanumericNonce.MatchString(c.Nonce) {
		t.Errorf("nonce %q is not the time prefix %q and >= 16 random alphanumerics", c.Nonce, prefix)
	}
	// The ID's random part is drawn apart from the nonce's, not made of it.
	if idRandom, ok := strings.CutPrefix(c.ID, prefix); !ok || !regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`).MatchString(idRandom) || strings.Contains(idRandom, nonceRandom) {
		t.Errorf("ID %q is not the time prefix %q and 32 URL-safe characters drawn apart from the nonce", c.ID, prefix)
	}
	if !c.IssuedAt.Equal(wantIssued) || !c.ExpiresAt.Equal(wantExpires) {
		t.Errorf("IssuedAt, ExpiresAt = %v, %v; want %v, %v", c.IssuedAt, c.ExpiresAt, wantIssued, wantExpires)
	}
	if c.Address != env.addr || c.ClientID != "app" || c.RedirectURI != "https://app.example/cb" ||
		c.AuthRequestID != "ar1" || strings.Join(c.Scopes, " ") != "openid profile" {
		t.Errorf("challenge does not carry the request: %+v", c)
	}

	stored, err := env.store.ChallengeByID(ctx, c.ID)
	if err != nil {
		t.Fatalf("challenge was not stored: %v", err)
	}
	if stored.Message != c.Message || stored.Nonce != c.Nonce {
		t.Errorf("stored challenge differs from the returned one")
	}

	// Two challenges never share a nonce or an ID.
	c2 := env.issue(t)
	if c2.Nonce == c.Nonce || c2.ID == c.ID {
		t.Errorf("second challenge reuses nonce or ID")
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func TestIssueDefaultsAndOptions(t *testing.T) {
	cfg := testConfig()
	cfg.Lifetime = 2 * time.Minute
	env := newTestEnvConfig(t, cfg)
	c, err := env.v.Issue(context.Background(), IssueRequest{
		Address:   strings.ToUpper(env.addr.Hex()[2:]),
		Statement: "Sign in to Demo",
		Resources: []string{"https://app.example/terms", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"},
	})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if c.ChainID != 1 {
		t.Errorf("default chain ID = %d, want the first allowed (1)", c.ChainID)
	}
	if got := c.ExpiresAt.Sub(c.IssuedAt); got != 2*time.Minute {
		t.Errorf("lifetime = %v, want the configured 2m", got)
	}
	m, err := siwego.ParseMessage(c.Message)
	if err != nil {
		t.Fatalf("ParseMessage: %v", err)
	}
	if deref(m.GetStatement()) != "Sign in to Demo" || len(m.GetResources()) != 2 {
		t.Errorf("statement or resources missing:\n%s", c.Message)
	}
	if m.GetAddress() != env.addr {
		t.Errorf("address = %v, want %v", m.GetAddress(), env.addr)
	}
}

func TestIssueRejects(t *testing.T) {
	valid := "0x52908400098527886E0F7030069857D2E4169EE7"
	tests := []struct {
		name     string
		req      IssueRequest
		fragment string
	}{
		{"empty address", IssueRequest{}, "address is not a valid Ethereum address"},
		{"short address", IssueRequest{Address: "0x1234"}, "address is not a valid Ethereum address"},
		{"non-hex address", IssueRequest{Address: "0xZZ908400098527886E0F7030069857D2E4169EE7"}, "address is not a valid Ethereum address"},
		{"ENS name", IssueRequest{Address: "vitalik.eth"}, "address is not a valid Ethereum address"},
		{"chain not allowed", IssueRequest{Address: valid, ChainID: 5}, "chain ID 5 is not allowed"},
		{"negative chain", IssueRequest{Address: valid, ChainID: -1}, "chain ID -1 is not allowed"},
		{"multi-line statement", IssueRequest{Address: valid, Statement: "a\nURI: https://evil.example"}, "statement must be a single line"},
		{"resource with space", IssueRequest{Address: valid, Resources: []string{"https://a.example/x y"}}, "resource is not a valid URI"},
		{"empty resource", IssueRequest{Address: valid, Resources: []string{""}}, "resource is not a valid URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			_, err := env.v.Issue(context.Background(), tt.req)
			wantError(t, err, CodeInvalidRequest, tt.fragment)
			if n := len(env.store.byID); n != 0 {
				t.Errorf("a rejected request stored %d challenges", n)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy pool on fire") }

type constantReader byte

func (r constantReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestIssueDependencyFailures(t *testing.T) {
	addr := common.HexToAddress("0x52908400098527886E0F7030069857D2E4169EE7").Hex()

	t.Run("store", func(t *testing.T) {
		env := newTestEnv(t)
		cause := errors.New("disk full")
		env.store.errSave = cause
		_, err := env.v.Issue(context.Background(), IssueRequest{Address: addr})
		e := wantError(t, err, CodeUnavailable, "challenge could not be stored")
		if !errors.Is(err, cause) || strings.Contains(e.Description, "disk") {
			t.Errorf("cause not wrapped or leaked into the description: %v", e)
		}
	})
	t.Run("random source fails", func(t *testing.T) {
		env := newTestEnv(t, WithRandom(failingReader{}))
		_, err := env.v.Issue(context.Background(), IssueRequest{Address: addr})
		wantError(t, err, CodeUnavailable, "challenge could not be created")
	})
	t.Run("random source never usable", func(t *testing.T) {
		// 0xFF is above the largest multiple of 62 and always rejected:
		// Issue must give up rather than loop forever.
		env := newTestEnv(t, WithRandom(constantReader(0xFF)))
		_, err := env.v.Issue(context.Background(), IssueRequest{Address: addr})
		wantError(t, err, CodeUnavailable, "challenge could not be created")
	})
}

func TestRandomStringIsUniform(t *testing.T) {
	env := newTestEnv(t)
	counts := map[rune]int{}
	const n = 62 * 2000
	s, err := env.v.randomString(n, alphanumeric)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s {
		counts[r]++
	}
	if len(counts) != len(alphanumeric) {
		t.Fatalf("used %d distinct characters, want %d", len(counts), len(alphanumeric))
	}
	// Plain modulo would draw '0'..'7' with probability 5/256 (about 2420
	// times here) and the rest with 4/256 (about 1940); uniform is 2000 ± 45.
	for r, c := range counts {
		if c < 1800 || c > 2250 {
			t.Errorf("character %q drawn %d times, want about 2000", r, c)
		}
	}
}
