package siwe

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// testRegistry is an agent registry the SIWA tests name.
var testRegistry = Registry{ChainID: 84532, Address: common.HexToAddress("0x8004A818BFB912233c491871b3d84c89A494BD9e")}

// siwaFields are the fields of a SIWA message, as buildSIWAMessage of
// @buildersgarden/siwa takes them.
type siwaFields struct {
	Domain, Address, Statement, URI, Version string
	AgentID                                  string
	Registry                                 string
	ChainID                                  int64
	Nonce, IssuedAt, Expires, NotBefore      string
	RequestID                                string
}

// text writes f as buildSIWAMessage does.
func (f siwaFields) text() string {
	lines := []string{f.Domain + " wants you to sign in with your Agent account:", f.Address, ""}
	if f.Statement != "" {
		lines = append(lines, f.Statement)
	}
	lines = append(lines, "", "URI: "+f.URI, "Version: "+f.Version, "Agent ID: "+f.AgentID,
		"Agent Registry: "+f.Registry, "Chain ID: "+strconv.FormatInt(f.ChainID, 10), "Nonce: "+f.Nonce, "Issued At: "+f.IssuedAt)
	for _, opt := range [][2]string{{"Expiration Time", f.Expires}, {"Not Before", f.NotBefore}, {"Request ID", f.RequestID}} {
		if opt[1] != "" {
			lines = append(lines, opt[0]+": "+opt[1])
		}
	}
	return strings.Join(lines, "\n")
}

// siwaFor returns the fields an agent writes for challenge c of key, as
// SIWA's documented flow does: the nonce and both times of the challenge.
func siwaFor(c *Challenge, key *ecdsa.PrivateKey) siwaFields {
	return siwaFields{
		Domain:    testDomain,
		Address:   crypto.PubkeyToAddress(key.PublicKey).Hex(),
		Statement: "Authenticate as a registered ERC-8004 agent.",
		URI:       testURI,
		Version:   "1",
		AgentID:   "42",
		Registry:  testRegistry.String(),
		ChainID:   c.ChainID,
		Nonce:     c.Nonce,
		IssuedAt:  c.IssuedAt.Format(time.RFC3339Nano),
		Expires:   c.ExpiresAt.Format(time.RFC3339Nano),
	}
}

// issueHeadless issues a headless challenge for the env's key.
func (e *testEnv) issueHeadless(t testing.TB) *Challenge {
	t.Helper()
	c, err := e.v.Issue(context.Background(), IssueRequest{Address: e.addr.Hex(), ClientID: "agents"})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return c
}

func TestVerifySIWA(t *testing.T) {
	env := newTestEnv(t)
	c := env.issueHeadless(t)
	env.clock.Advance(2 * time.Second)
	f := siwaFor(c, env.key)
	msg := f.text()
	res, err := env.v.Verify(context.Background(), msg, sign(t, env.key, msg), Expect{ClientID: "agents", Headless: true, Agent: true})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := Agent{ID: 42, Registry: testRegistry}
	if res.Agent == nil || *res.Agent != want || res.Address != env.addr || res.Message != msg || res.ChainID != 1 {
		t.Fatalf("result = %+v (agent %+v), want agent %+v", res, res.Agent, want)
	}
	if !env.store.isUsed(c.ID) {
		t.Fatal("the challenge was not consumed")
	}
	// Replay: the same signed message a second time.
	_, err = env.v.Verify(context.Background(), msg, sign(t, env.key, msg), Expect{})
	if e := wantError(t, err, CodeInvalidGrant, "already used"); e.Check != CheckUsed {
		t.Fatalf("replay: check %v, want CheckUsed", e.Check)
	}
}

// TestVerifySIWAEveryFieldEdited: an agent that signs a message with any
// field other than the challenge's is refused by the same EIP-4361 rule as
// an EIP-4361 message, and the challenge stays unused; a message edited
// after signing is refused by its signature.
func TestVerifySIWAEveryFieldEdited(t *testing.T) {
	other := newKey(t)
	for _, tc := range []struct {
		name  string
		edit  func(*siwaFields, *testEnv)
		check Check
	}{
		{"domain", func(f *siwaFields, _ *testEnv) { f.Domain = "evil.example" }, CheckDomain},
		{"URI", func(f *siwaFields, _ *testEnv) { f.URI = "https://evil.example/api/siwa/verify" }, CheckDomain},
		{"version", func(f *siwaFields, _ *testEnv) { f.Version = "2" }, CheckMessage},
		{"chain allowed but not the challenge's", func(f *siwaFields, _ *testEnv) { f.ChainID = 137 }, CheckChain},
		{"chain not allowed", func(f *siwaFields, _ *testEnv) { f.ChainID = 84532 }, CheckChain},
		{"nonce", func(f *siwaFields, _ *testEnv) { f.Nonce = "NotOurNonce12345" }, CheckNonce},
		{"issued in the future", func(f *siwaFields, e *testEnv) { f.IssuedAt = testStart.Add(time.Hour).Format(time.RFC3339) }, CheckExpired},
		{"expired", func(f *siwaFields, e *testEnv) { f.Expires = testStart.Add(-time.Hour).Format(time.RFC3339) }, CheckExpired},
		{"not yet valid", func(f *siwaFields, e *testEnv) { f.NotBefore = testStart.Add(time.Hour).Format(time.RFC3339) }, CheckExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issueHeadless(t)
			f := siwaFor(c, env.key)
			tc.edit(&f, env)
			msg := f.text()
			_, err := env.v.Verify(context.Background(), msg, sign(t, env.key, msg), Expect{})
			if e := checkErrorOf(t, err); e.Check != tc.check {
				t.Fatalf("check %v (%v), want %v", e.Check, e, tc.check)
			}
			if env.store.isUsed(c.ID) {
				t.Fatal("a refused message consumed the challenge")
			}
		})
	}
	t.Run("address, signed by that account", func(t *testing.T) {
		env := newTestEnv(t)
		c := env.issueHeadless(t)
		f := siwaFor(c, other)
		msg := f.text()
		_, err := env.v.Verify(context.Background(), msg, sign(t, other, msg), Expect{})
		if e := checkErrorOf(t, err); e.Check != CheckAddress {
			t.Fatalf("check %v, want CheckAddress", e.Check)
		}
	})
	for _, e := range [][2]string{
		{"Agent ID: 42", "Agent ID: 43"},
		{"Agent Registry: eip155:84532:", "Agent Registry: eip155:84531:"},
		{"Chain ID: 1", "Chain ID: 137"},
		{"Version: 1", "Version: 2"},
		{"Issued At: 2025", "Issued At: 2024"},
		{"ERC-8004 agent.", "ERC-8004 agent!"},
	} {
		t.Run("edited after signing: "+e[0], func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issueHeadless(t)
			msg := siwaFor(c, env.key).text()
			sig := sign(t, env.key, msg)
			_, err := env.v.Verify(context.Background(), replaceOnce(t, msg, e[0], e[1]), sig, Expect{})
			if err == nil {
				t.Fatal("an edited message was accepted")
			}
			if env.store.isUsed(c.ID) {
				t.Fatal("a refused message consumed the challenge")
			}
		})
	}
}

// checkErrorOf returns err as an *Error, failing the test otherwise.
func checkErrorOf(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error", err, err)
	}
	return e
}

func TestVerifySIWAChallengeExpired(t *testing.T) {
	env := newTestEnv(t)
	c := env.issueHeadless(t)
	msg := siwaFor(c, env.key).text()
	env.clock.Advance(DefaultLifetime)
	_, err := env.v.Verify(context.Background(), msg, sign(t, env.key, msg), Expect{})
	if e := wantError(t, err, CodeInvalidGrant, "challenge expired"); e.Check != CheckExpired {
		t.Fatalf("check %v, want CheckExpired", e.Check)
	}
}

// TestVerifyExpectURIAndAgent: a wire profile names the URI its clients
// sign, which then replaces the issuer's; and may refuse EIP-4361 messages.
func TestVerifyExpectURIAndAgent(t *testing.T) {
	const profileURI = "https://signet.example:8443/oidc/compat/agents/api/siwa/verify"
	env := newTestEnv(t)
	c := env.issueHeadless(t)
	f := siwaFor(c, env.key)
	msg := f.text()
	_, err := env.v.Check(context.Background(), msg, sign(t, env.key, msg), Expect{URI: profileURI})
	if e := checkErrorOf(t, err); e.Check != CheckDomain {
		t.Fatalf("issuer URI where the profile's is expected: %v", e)
	}
	f.URI = profileURI
	msg = f.text()
	if _, err := env.v.Check(context.Background(), msg, sign(t, env.key, msg), Expect{URI: profileURI, Agent: true}); err != nil {
		t.Fatalf("profile URI: %v", err)
	}
	_, err = env.v.Check(context.Background(), c.Message, sign(t, env.key, c.Message), Expect{Agent: true})
	if e := wantError(t, err, CodeInvalidRequest, "not a SIWA message"); e.Check != CheckMessage {
		t.Fatalf("EIP-4361 where SIWA is expected: %v", e)
	}
}

func TestParseSIWA(t *testing.T) {
	base := siwaFields{
		Domain: "localhost:8080", Address: "0x627306090abaB3A6e1400e9345bC60c78a8BEf57", URI: "http://localhost:8080",
		Version: "1", AgentID: "7", Registry: "eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432", ChainID: 1,
		Nonce: "abcdEFGH1234", IssuedAt: "2026-03-01T08:30:15.250Z",
	}
	m, err := parseSIWA(base.text())
	if err != nil {
		t.Fatalf("parseSIWA: %v", err)
	}
	if m.Domain != "localhost:8080" || m.URI != "http://localhost:8080" || m.Version != "1" || m.ChainID != 1 ||
		m.Nonce != "abcdEFGH1234" || m.Address.Hex() != base.Address || m.ExpirationTime != nil || m.NotBefore != nil ||
		m.Agent == nil || m.Agent.ID != 7 || m.Agent.Registry.String() != base.Registry || m.IssuedAt.Nanosecond() != 250e6 {
		t.Fatalf("parsed %+v (agent %+v)", m, m.Agent)
	}
	full := base
	full.Statement, full.Expires, full.NotBefore, full.RequestID = "Sign in: agents & co. (v1)", "2026-03-01T08:35:00Z", "2026-03-01T08:30:00Z", "req-8004"
	if m, err := parseSIWA(full.text()); err != nil || m.ExpirationTime == nil || m.NotBefore == nil {
		t.Fatalf("parseSIWA with every optional field: %+v, %v", m, err)
	}
	lower := base
	lower.Registry = strings.ToLower(base.Registry)
	if m, err := parseSIWA(lower.text()); err != nil || m.Agent.Registry.String() != base.Registry {
		t.Fatalf("a lowercase registry address: %+v, %v", m, err)
	}
}

func TestParseSIWARefuses(t *testing.T) {
	base := siwaFields{
		Domain: "localhost:8080", Address: "0x627306090abaB3A6e1400e9345bC60c78a8BEf57", URI: "http://localhost:8080",
		Version: "1", AgentID: "7", Registry: "eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432", ChainID: 1,
		Nonce: "abcdEFGH1234", IssuedAt: "2026-03-01T08:30:15.250Z", Expires: "2026-03-01T08:35:15.250Z",
	}
	good := base.text()
	edit := func(f func(*siwaFields)) string { g := base; f(&g); return g.text() }
	for name, text := range map[string]string{
		"lowercase address":          edit(func(f *siwaFields) { f.Address = strings.ToLower(f.Address) }),
		"bad checksum":               edit(func(f *siwaFields) { f.Address = "0x627306090ABAB3A6e1400e9345bC60c78a8BEf57" }),
		"scheme in the domain":       edit(func(f *siwaFields) { f.Domain = "https://localhost:8080" }),
		"user in the domain":         edit(func(f *siwaFields) { f.Domain = "me@localhost:8080" }),
		"no agent ID":                strings.Replace(good, "Agent ID: 7\n", "", 1),
		"no registry":                strings.Replace(good, "Agent Registry: "+base.Registry+"\n", "", 1),
		"agent lines after chain":    strings.Replace(strings.Replace(good, "Agent ID: 7\n", "", 1), "Nonce:", "Agent ID: 7\nNonce:", 1),
		"agent ID with a sign":       edit(func(f *siwaFields) { f.AgentID = "+7" }),
		"agent ID too large":         edit(func(f *siwaFields) { f.AgentID = "9223372036854775808" }),
		"agent ID not a number":      edit(func(f *siwaFields) { f.AgentID = "seven" }),
		"registry of chain 0":        edit(func(f *siwaFields) { f.Registry = "eip155:0:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432" }),
		"registry in another space":  edit(func(f *siwaFields) { f.Registry = "solana:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432" }),
		"registry with bad checksum": edit(func(f *siwaFields) { f.Registry = "eip155:1:0x8004a169FB4a3325136EB29fA0ceB6D2e539a432" }),
		"registry without address":   edit(func(f *siwaFields) { f.Registry = "eip155:1" }),
		"chain 0":                    edit(func(f *siwaFields) { f.ChainID = 0 }),
		"short nonce":                edit(func(f *siwaFields) { f.Nonce = "abc123" }),
		"nonce with a dash":          edit(func(f *siwaFields) { f.Nonce = "abcd-EFGH-1234" }),
		"statement with non-ASCII":   edit(func(f *siwaFields) { f.Statement = "Connexion de l’agent" }),
		"issued at not RFC 3339":     edit(func(f *siwaFields) { f.IssuedAt = "2026-03-01 08:30:15" }),
		"expiry not RFC 3339":        edit(func(f *siwaFields) { f.Expires = "tomorrow" }),
		"request ID with a space":    edit(func(f *siwaFields) { f.RequestID = "req 8004" }),
		"URI not absolute":           edit(func(f *siwaFields) { f.URI = "/api/siwa/verify" }),
		"CRLF line ends":             strings.ReplaceAll(good, "\n", "\r\n"),
		"trailing newline":           good + "\n",
		"unknown line at the end":    good + "\nResources:",
		"fields out of order":        strings.Replace(strings.Replace(good, "Version: 1\n", "", 1), "Chain ID:", "Version: 1\nChain ID:", 1),
		"an EIP-4361 header":         strings.Replace(good, "Agent account", "Ethereum account", 1),
		"no blank line":              strings.Replace(good, base.Address+"\n\n", base.Address+"\n", 1),
		"two statement lines":        edit(func(f *siwaFields) { f.Statement = "one\ntwo" }),
	} {
		if m, err := parseSIWA(text); err == nil {
			t.Errorf("%s: parsed %+v", name, m)
		}
	}
}

func TestParseRegistry(t *testing.T) {
	r, err := ParseRegistry("eip155:84532:0x8004a818bfb912233c491871b3d84c89a494bd9e")
	if err != nil || r != testRegistry || r.String() != "eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e" {
		t.Fatalf("ParseRegistry = %v, %v", r, err)
	}
	for _, s := range []string{"", "eip155::0x8004a818bfb912233c491871b3d84c89a494bd9e", "eip155:-1:0x8004a818bfb912233c491871b3d84c89a494bd9e",
		"eip155:1:0x8004a818bfb912233c491871b3d84c89a494bd", "eip155:1:8004a818bfb912233c491871b3d84c89a494bd9e00", "EIP155:1:0x8004a818bfb912233c491871b3d84c89a494bd9e",
		"eip155:1:0x8004a818bfb912233c491871b3d84c89a494bd9e:extra"} {
		if r, err := ParseRegistry(s); err == nil {
			t.Errorf("ParseRegistry(%q) = %v", s, r)
		}
	}
}
