package siwe

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	siwego "github.com/spruceid/siwe-go"
)

var fullExpect = Expect{ClientID: "app", AuthRequestID: "ar1"}

func TestVerifyServerMessage(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    byte
	}{
		{"v is 27 or 28", 27},
		{"v is 0 or 1", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			raw := signRaw(t, env.key, c.Message)
			raw[64] += tt.v
			sigHex := "0x" + hex.EncodeToString(raw)

			expect := fullExpect
			expect.ChallengeID = c.ID
			res, err := env.v.Verify(context.Background(), c.Message, sigHex, expect)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Challenge.ID != c.ID || res.Message != c.Message || res.Address != env.addr ||
				res.Signer != env.addr || res.ChainID != 1 || res.SignatureHex != sigHex ||
				hex.EncodeToString(res.Signature) != sigHex[2:] {
				t.Errorf("result = %+v", res)
			}
			if !env.store.isUsed(c.ID) {
				t.Errorf("challenge was not consumed")
			}
		})
	}
}

func TestVerifySignatureEncodings(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	sig := sign(t, env.key, c.Message)
	// Without 0x and in upper case: still hex; SignatureHex is canonical.
	res, err := env.v.Verify(context.Background(), c.Message, strings.ToUpper(sig[2:]), Expect{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.SignatureHex != sig {
		t.Errorf("SignatureHex = %q, want %q", res.SignatureHex, sig)
	}
}

// An agent may sign its own EIP-4361 message that carries our nonce.
func TestVerifyAgentMessage(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	text := agentMessage(t, c, func(o map[string]any) {
		o["expirationTime"] = testStart.Add(time.Hour).Format(time.RFC3339)
		o["notBefore"] = testStart.Add(-time.Minute).Format(time.RFC3339)
		o["requestId"] = "agent-run-42"
	})
	res, err := env.v.Verify(context.Background(), text, sign(t, env.key, text), fullExpect)
	if err != nil {
		t.Fatalf("Verify: %v\n%s", err, text)
	}
	if res.Message != text || res.Challenge.ID != c.ID {
		t.Errorf("result does not carry the submitted message and its challenge")
	}
}

// The signature covers the submitted bytes: a message whose re-serialisation
// differs from its text verifies, and signing one text while submitting a
// byte-different but equivalent one does not.
func TestVerifyHashesExactBytes(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	// siwe-go re-serialises resources through net/url, which lowercases the scheme.
	text := c.Message + "\nResources:\n- HTTPS://app.example/Terms"
	m, err := siwego.ParseMessage(text)
	if err != nil {
		t.Fatal(err)
	}
	if m.String() == text {
		t.Fatal("precondition: siwe-go's String() should differ from the text")
	}
	if _, err := env.v.Verify(context.Background(), text, sign(t, env.key, m.String()), Expect{}); err == nil {
		t.Fatal("a signature over the re-serialised text was accepted for the submitted text")
	} else {
		wantError(t, err, CodeInvalidGrant, "signature does not match the address")
	}
	if _, err := env.v.Verify(context.Background(), text, sign(t, env.key, text), Expect{}); err != nil {
		t.Fatalf("signature over the exact text rejected: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	other := newKey(t)
	otherAddr := crypto.PubkeyToAddress(other.PublicKey)

	type submission struct{ text, sig string }
	tests := []struct {
		name     string
		build    func(t *testing.T, env *testEnv, c *Challenge) submission
		expect   Expect
		code     Code
		fragment string
	}{
		// Input shape.
		{
			name:  "empty message",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission { return submission{"", sign(t, env.key, "")} },
			code:  CodeInvalidRequest, fragment: "message is empty",
		},
		{
			name: "message over 16 KiB",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := c.Message + "\nResources:\n- https://a.example/" + strings.Repeat("a", MaxMessageBytes)
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidRequest, fragment: "longer than 16 KiB",
		},
		{
			name:  "signature not hex",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission { return submission{c.Message, "0xnothex"} },
			code:  CodeInvalidRequest, fragment: "signature is not hex",
		},
		{
			name:  "signature of 0 bytes",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission { return submission{c.Message, "0x"} },
			code:  CodeInvalidRequest, fragment: "signature is not hex",
		},
		{
			name:  "signature empty",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission { return submission{c.Message, ""} },
			code:  CodeInvalidRequest, fragment: "signature is not hex",
		},
		{
			name: "signature odd length",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message)[:131]}
			},
			code: CodeInvalidRequest, fragment: "signature is not hex",
		},
		{
			name: "not an EIP-4361 message",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{"hello", sign(t, env.key, "hello")}
			},
			code: CodeInvalidRequest, fragment: "not a valid EIP-4361 message",
		},
		{
			name: "version edited",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "\nVersion: 1\n", "\nVersion: 2\n")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidRequest, fragment: "not a valid EIP-4361 message",
		},
		{
			name: "address not EIP-55",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, c.Address.Hex(), strings.ToLower(c.Address.Hex()))
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidRequest, fragment: "not a valid EIP-4361 message",
		},
		{
			name: "trailing newline",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message + "\n", sign(t, env.key, c.Message+"\n")}
			},
			code: CodeInvalidRequest, fragment: "not a valid EIP-4361 message",
		},
		{
			// siwe-go accepts a five-digit year; RFC 3339 does not.
			name: "Expiration Time not RFC 3339",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := agentMessage(t, c, func(o map[string]any) { o["expirationTime"] = "10000-01-01T00:00:00Z" })
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidRequest, fragment: "not a valid EIP-4361 message",
		},
		// The nonce.
		{
			name: "nonce edited",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "Nonce: "+c.Nonce, "Nonce: "+c.Nonce+"x")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "nonce was not issued by this server",
		},
		{
			name: "nonce in other case",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				env.store.foldNonce = true
				text := replaceOnce(t, c.Message, "Nonce: "+c.Nonce, "Nonce: "+strings.ToLower(c.Nonce))
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "nonce was not issued by this server",
		},
		// Expect.
		{
			name: "expected client differs",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message)}
			},
			expect: Expect{ClientID: "other-app"},
			code:   CodeInvalidGrant, fragment: "different client",
		},
		{
			name: "expected challenge differs",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message)}
			},
			expect: Expect{ChallengeID: "some-other-state"},
			code:   CodeInvalidGrant, fragment: "different challenge",
		},
		{
			name: "expected auth request differs",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message)}
			},
			expect: Expect{AuthRequestID: "ar2"},
			code:   CodeInvalidGrant, fragment: "different authorization request",
		},
		// Fields edited after issue and re-signed by the right key.
		{
			name: "domain edited",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, testDomain+" wants", "evil.example wants")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "domain does not match",
		},
		{
			name: "domain port dropped",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, testDomain+" wants", "signet.example wants")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "domain does not match",
		},
		{
			name: "URI edited",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "URI: "+testURI, "URI: https://evil.example/oidc")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "URI does not match",
		},
		{
			name: "URI differs only in scheme case",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "URI: https://", "URI: HTTPS://")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "URI does not match",
		},
		{
			name: "URI in the statement, other URI in the URI line",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := agentMessage(t, c, func(o map[string]any) { o["statement"] = "URI: " + testURI })
				text = replaceOnce(t, text, "\nURI: "+testURI+"\nVersion", "\nURI: https://evil.example\nVersion")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "URI does not match",
		},
		{
			name: "chain edited to another allowed chain",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "\nChain ID: 1\n", "\nChain ID: 137\n")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "chain ID does not match the challenge",
		},
		{
			name: "chain edited to a chain not allowed",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, "\nChain ID: 1\n", "\nChain ID: 5\n")
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "chain ID is not allowed",
		},
		{
			name: "address edited and signed by that address",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := replaceOnce(t, c.Message, c.Address.Hex(), otherAddr.Hex())
				return submission{text, sign(t, other, text)}
			},
			code: CodeInvalidGrant, fragment: "address does not match the challenge",
		},
		// Times.
		{
			name: "challenge expired on the server",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				// The agent's own message says nothing about expiry; the
				// stored challenge still decides.
				text := agentMessage(t, c, nil)
				env.clock.Advance(DefaultLifetime)
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "challenge expired",
		},
		{
			name: "challenge expired at exactly ExpiresAt",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				env.clock.Advance(c.ExpiresAt.Sub(env.clock.Now()))
				return submission{c.Message, sign(t, env.key, c.Message)}
			},
			code: CodeInvalidGrant, fragment: "challenge expired",
		},
		{
			name: "agent message Expiration Time passed",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := agentMessage(t, c, func(o map[string]any) {
					o["expirationTime"] = testStart.Add(-DefaultSkew - time.Second).Format(time.RFC3339)
				})
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "Expiration Time has passed",
		},
		{
			name: "agent message Not Before in the future",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := agentMessage(t, c, func(o map[string]any) {
					o["notBefore"] = testStart.Add(DefaultSkew + time.Second).Format(time.RFC3339)
				})
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "Not Before is in the future",
		},
		{
			name: "agent message Issued At in the future",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				text := agentMessage(t, c, func(o map[string]any) {
					o["issuedAt"] = testStart.Add(DefaultSkew + time.Second).Format(time.RFC3339)
				})
				return submission{text, sign(t, env.key, text)}
			},
			code: CodeInvalidGrant, fragment: "Issued At is in the future",
		},
		// Signatures.
		{
			name: "signed by another key",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, other, c.Message)}
			},
			code: CodeInvalidGrant, fragment: "signature does not match the address",
		},
		{
			name: "signature over other text",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message+" ")}
			},
			code: CodeInvalidGrant, fragment: "signature does not match the address",
		},
		{
			name: "signature of 63 bytes",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message)[:128]}
			},
			code: CodeInvalidGrant, fragment: "signature must be 65 bytes",
		},
		{
			name: "signature of 66 bytes",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				return submission{c.Message, sign(t, env.key, c.Message) + "00"}
			},
			code: CodeInvalidGrant, fragment: "signature must be 65 bytes",
		},
		{
			name: "signature with v 29",
			build: func(t *testing.T, env *testEnv, c *Challenge) submission {
				raw := signRaw(t, env.key, c.Message)
				raw[64] = 29
				return submission{c.Message, "0x" + hex.EncodeToString(raw)}
			},
			code: CodeInvalidGrant, fragment: "signature has an invalid recovery id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			s := tt.build(t, env, c)
			res, err := env.v.Verify(context.Background(), s.text, s.sig, tt.expect)
			if err == nil {
				t.Fatalf("Verify accepted it: %+v", res)
			}
			wantError(t, err, tt.code, tt.fragment)
			if env.store.isUsed(c.ID) {
				t.Errorf("a rejected submission consumed the challenge")
			}
		})
	}
}

// The checks tolerate Config.Skew on the message's own times, and a challenge
// is valid until just before its ExpiresAt.
func TestVerifyTimeBoundaries(t *testing.T) {
	justInside := DefaultSkew - time.Second
	tests := []struct {
		name string
		edit func(o map[string]any)
		at   func(c *Challenge) time.Time // the clock at Verify; nil keeps testStart
	}{
		{"Expiration Time just passed, within skew", func(o map[string]any) {
			o["expirationTime"] = testStart.Add(-justInside).Format(time.RFC3339Nano)
		}, nil},
		{"Not Before just ahead, within skew", func(o map[string]any) {
			o["notBefore"] = testStart.Add(justInside).Format(time.RFC3339Nano)
		}, nil},
		{"Issued At just ahead, within skew", func(o map[string]any) {
			o["issuedAt"] = testStart.Add(justInside).Format(time.RFC3339Nano)
		}, nil},
		{"Expiration Time after the challenge's", func(o map[string]any) {
			o["expirationTime"] = testStart.Add(24 * time.Hour).Format(time.RFC3339Nano)
		}, nil},
		{"last nanosecond of the challenge", nil, func(c *Challenge) time.Time {
			return c.ExpiresAt.Add(-time.Nanosecond)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			text := agentMessage(t, c, tt.edit)
			if tt.at != nil {
				env.clock.Advance(tt.at(c).Sub(env.clock.Now()))
			}
			if _, err := env.v.Verify(context.Background(), text, sign(t, env.key, text), Expect{}); err != nil {
				t.Fatalf("Verify: %v\n%s", err, text)
			}
		})
	}
}

func TestVerifyConfiguredSkew(t *testing.T) {
	cfg := testConfig()
	cfg.Skew = 5 * time.Second
	env := newTestEnvConfig(t, cfg)
	c := env.issue(t)
	for _, tt := range []struct {
		issuedAt time.Duration
		ok       bool
	}{{6 * time.Second, false}, {4 * time.Second, true}} {
		text := agentMessage(t, c, func(o map[string]any) {
			o["issuedAt"] = testStart.Add(tt.issuedAt).Format(time.RFC3339Nano)
		})
		_, err := env.v.Verify(context.Background(), text, sign(t, env.key, text), Expect{})
		if tt.ok && err != nil {
			t.Errorf("Issued At now+%v with skew 5s: %v", tt.issuedAt, err)
		}
		if !tt.ok {
			wantError(t, err, CodeInvalidGrant, "Issued At is in the future")
		}
	}
}

func TestVerifyReplay(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	sig := sign(t, env.key, c.Message)
	if _, err := env.v.Verify(context.Background(), c.Message, sig, Expect{}); err != nil {
		t.Fatalf("first Verify: %v", err)
	}
	_, err := env.v.Verify(context.Background(), c.Message, sig, Expect{})
	wantError(t, err, CodeInvalidGrant, "challenge was already used")

	// An agent's own message with the same nonce is a replay too.
	text := agentMessage(t, c, nil)
	_, err = env.v.Verify(context.Background(), text, sign(t, env.key, text), Expect{})
	wantError(t, err, CodeInvalidGrant, "challenge was already used")
}

// A Verifier that did not issue a challenge (another replica) reads it from
// the store, and the store alone decides single use.
func TestChallengesOfAnotherReplica(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	c := env.issue(t)
	other, err := NewVerifier(testConfig(), env.store, WithClock(env.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := other.Challenge(ctx, c.ID); err != nil || got.Message != c.Message {
		t.Fatalf("another replica's challenge from the store: %v, %v", got, err)
	}
	if _, err := other.Verify(ctx, c.Message, sign(t, env.key, c.Message), Expect{}); err != nil {
		t.Fatalf("Verify on another replica: %v", err)
	}
	_, err = env.v.Verify(ctx, c.Message, sign(t, env.key, c.Message), Expect{})
	wantError(t, err, CodeInvalidGrant, "challenge was already used")
	if _, err := other.Challenge(ctx, "nope"); !errors.Is(err, ErrChallengeNotFound) {
		t.Fatalf("unknown ID: %v", err)
	}
}

// Check verifies without consuming; Consume then lets the challenge be
// redeemed exactly once.
func TestCheckLeavesChallengeForConsume(t *testing.T) {
	ctx := context.Background()
	env := newTestEnv(t)
	c := env.issue(t)
	sig := sign(t, env.key, c.Message)
	res, err := env.v.Check(ctx, c.Message, sig, Expect{})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if res.Challenge.ID != c.ID || res.Address != env.addr {
		t.Fatalf("Check result: %+v", res)
	}
	if _, err := env.v.Check(ctx, c.Message, sig, Expect{}); err != nil {
		t.Fatalf("second Check before any Consume: %v", err)
	}
	if err := env.v.Consume(ctx, res.Challenge); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	err = env.v.Consume(ctx, res.Challenge)
	wantError(t, err, CodeInvalidGrant, "challenge was already used")
	_, err = env.v.Verify(ctx, c.Message, sig, Expect{})
	wantError(t, err, CodeInvalidGrant, "challenge was already used")
}

// A challenge issued on a chain that the configuration no longer allows
// cannot be redeemed.
func TestVerifyChainNoLongerAllowed(t *testing.T) {
	env := newTestEnv(t)
	c, err := env.v.Issue(context.Background(), IssueRequest{Address: env.addr.Hex(), ChainID: 137})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.ChainIDs = []int64{1}
	v2, err := NewVerifier(cfg, env.store, WithClock(env.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	_, err = v2.Verify(context.Background(), c.Message, sign(t, env.key, c.Message), Expect{})
	wantError(t, err, CodeInvalidGrant, "chain ID is not allowed")
}

// The server's own text, redeemed by its challenge (as DIMO's
// submit_challenge does), is checked against the configuration of the
// verifier that redeems it, not the one that issued it.
func TestVerifyOwnTextUnderChangedConfig(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		edit       func(*Config)
	}{
		{"chain", "chain ID is not allowed", func(c *Config) { c.ChainIDs = []int64{137} }},
		{"domain", "domain does not match", func(c *Config) { c.Domain, c.URI = "other.example", "https://other.example/oidc" }},
		{"uri", "URI does not match", func(c *Config) { c.URI = "https://signet.example:8443/other" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			cfg := testConfig()
			tc.edit(&cfg)
			v2, err := NewVerifier(cfg, env.store, WithClock(env.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			_, err = v2.Verify(context.Background(), c.Message, sign(t, env.key, c.Message), Expect{Challenge: c})
			wantError(t, err, CodeInvalidGrant, tc.want)
		})
	}
}

// ownFields, which spares the parse of the server's own text, gives the
// fields the parser reads from it; for any other text it declines.
func TestOwnFieldsAgreeWithParser(t *testing.T) {
	env := newTestEnv(t)
	for i, r := range []IssueRequest{
		{Address: env.addr.Hex()},
		{Address: env.addr.Hex(), Statement: "Sign in to App", ChainID: 137},
		{Address: env.addr.Hex(), Statement: "URI: https://evil.example", Resources: []string{"https://a.example/r"}},
	} {
		c, err := env.v.Issue(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		own, ok := env.v.ownFields(c.Message, c)
		if !ok {
			t.Fatalf("%d: own text not recognised:\n%s", i, c.Message)
		}
		parsed, err := parseMessage(c.Message)
		if err != nil {
			t.Fatal(err)
		}
		if own.Domain != parsed.Domain || own.Address != parsed.Address || own.URI != parsed.URI ||
			own.Version != parsed.Version || own.ChainID != parsed.ChainID || own.Nonce != parsed.Nonce ||
			own.IssuedAt.Sub(parsed.IssuedAt).Abs() >= time.Millisecond || parsed.ExpirationTime == nil ||
			own.ExpirationTime.Sub(*parsed.ExpirationTime).Abs() >= time.Millisecond || parsed.NotBefore != nil {
			t.Fatalf("%d: ownFields %+v, parser %+v", i, own, parsed)
		}
		if _, ok := env.v.ownFields(c.Message+" ", c); ok {
			t.Fatalf("%d: another text taken for the challenge's own", i)
		}
		if _, ok := env.v.ownFields(c.Message, nil); ok {
			t.Fatalf("%d: own fields without a challenge", i)
		}
	}
}

// Version 1 is enforced by siwe-go's parser already; checkFields enforces it
// again so that a more lenient parser cannot let another version through.
func TestCheckFieldsVersion(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	m, err := parseMessage(c.Message)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.v.checkFields(m, c, testURI, testStart); err != nil {
		t.Fatalf("checkFields on the issued message: %v", err)
	}
	m.Version = "2"
	wantError(t, env.v.checkFields(m, c, testURI, testStart), CodeInvalidGrant, "version must be 1")
}

func TestVerifyInvalidSubmissionDoesNotConsume(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	other := newKey(t)
	ctx := context.Background()

	bad := []struct {
		text, sig string
		expect    Expect
	}{
		{c.Message, sign(t, other, c.Message), Expect{}},
		{c.Message, sign(t, env.key, c.Message), Expect{ClientID: "attacker"}},
		{c.Message, "0x00", Expect{}},
	}
	for _, b := range bad {
		if _, err := env.v.Verify(ctx, b.text, b.sig, b.expect); err == nil {
			t.Fatalf("invalid submission accepted")
		}
	}
	if _, err := env.v.Verify(ctx, c.Message, sign(t, env.key, c.Message), fullExpect); err != nil {
		t.Fatalf("valid submission after invalid ones: %v", err)
	}
}

func TestVerifyConcurrentSubmissions(t *testing.T) {
	env := newTestEnv(t)
	c := env.issue(t)
	sig := sign(t, env.key, c.Message)

	const n = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = env.v.Verify(context.Background(), c.Message, sig, Expect{})
		}()
	}
	close(start)
	wg.Wait()

	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		wantError(t, err, CodeInvalidGrant, "challenge was already used")
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent submissions succeeded, want exactly 1", wins, n)
	}
}

func TestVerifyStoreFailures(t *testing.T) {
	cause := errors.New("pq: connection refused at 10.0.0.7")
	tests := []struct {
		name   string
		break_ func(s *memStore)
	}{
		{"lookup", func(s *memStore) { s.errByNonce = cause }},
		{"consume", func(s *memStore) { s.errConsume = cause }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			tt.break_(env.store)
			// Another replica on the same store: it has to read the challenge.
			other, err := NewVerifier(testConfig(), env.store, WithClock(env.clock.Now))
			if err != nil {
				t.Fatal(err)
			}
			_, err = other.Verify(context.Background(), c.Message, sign(t, env.key, c.Message), Expect{})
			e := wantError(t, err, CodeUnavailable, "challenge store is unavailable")
			if !errors.Is(err, cause) || strings.Contains(e.Description, "10.0.0.7") {
				t.Errorf("cause not wrapped, or leaked into the description: %v", e)
			}
		})
	}
}

// checkerFunc adapts a function to SignatureChecker.
type checkerFunc func(ctx context.Context, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error)

func (f checkerFunc) CheckSignature(ctx context.Context, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	return f(ctx, chainID, account, hash, sig)
}

func TestVerifyUsesSignatureChecker(t *testing.T) {
	delegate := common.HexToAddress("0x00000000000000000000000000000000000000d1")

	t.Run("receives the exact hash and returns the signer", func(t *testing.T) {
		var gotChain int64
		var gotAccount common.Address
		var gotHash common.Hash
		var gotSig []byte
		checker := checkerFunc(func(_ context.Context, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
			gotChain, gotAccount, gotHash, gotSig = chainID, account, hash, sig
			return delegate, nil
		})
		env := newTestEnv(t, WithSignatureChecker(checker))
		c, err := env.v.Issue(context.Background(), IssueRequest{Address: env.addr.Hex(), ChainID: 137})
		if err != nil {
			t.Fatal(err)
		}
		// A contract-wallet signature: not 65 bytes, which only EOAChecker minds.
		res, err := env.v.Verify(context.Background(), c.Message, "0x"+strings.Repeat("ab", 100), Expect{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if gotChain != 137 || gotAccount != env.addr || gotHash != TextHash([]byte(c.Message)) || len(gotSig) != 100 {
			t.Errorf("checker called with chain %d, account %v, hash %v, %d-byte sig", gotChain, gotAccount, gotHash, len(gotSig))
		}
		if res.Signer != delegate || res.Address != env.addr {
			t.Errorf("Signer, Address = %v, %v; want %v, %v", res.Signer, res.Address, delegate, env.addr)
		}
	})

	t.Run("domain error passes through", func(t *testing.T) {
		want := &Error{Code: CodeInvalidGrant, Description: "contract wallet rejected the signature"}
		checker := checkerFunc(func(context.Context, int64, common.Address, common.Hash, []byte) (common.Address, error) {
			return common.Address{}, fmt.Errorf("erc1271: %w", want)
		})
		env := newTestEnv(t, WithSignatureChecker(checker))
		c := env.issue(t)
		_, err := env.v.Verify(context.Background(), c.Message, "0x01", Expect{})
		if e := wantError(t, err, CodeInvalidGrant, "contract wallet rejected"); e != want {
			t.Errorf("error %v is not the checker's", e)
		}
	})

	t.Run("other error is unavailable", func(t *testing.T) {
		cause := errors.New("dial tcp 10.0.0.8:8545: connection refused")
		checker := checkerFunc(func(context.Context, int64, common.Address, common.Hash, []byte) (common.Address, error) {
			return common.Address{}, cause
		})
		env := newTestEnv(t, WithSignatureChecker(checker))
		c := env.issue(t)
		_, err := env.v.Verify(context.Background(), c.Message, "0x01", Expect{})
		wantError(t, err, CodeUnavailable, "signature could not be checked")
		if !errors.Is(err, cause) || env.store.isUsed(c.ID) {
			t.Errorf("cause not wrapped, or challenge consumed: %v", err)
		}
	})
}

func TestErrorText(t *testing.T) {
	cause := errors.New("boom")
	e := &Error{Code: CodeUnavailable, Description: "challenge store is unavailable", Err: cause}
	if got, want := e.Error(), "siwe: unavailable: challenge store is unavailable: boom"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, cause) {
		t.Errorf("Unwrap does not return the cause")
	}
	if got, want := invalidGrant(CheckExpired, "challenge expired").Error(), "siwe: invalid_grant: challenge expired"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if CodeInvalidRequest.String() != "invalid_request" || Code(9).String() != "Code(9)" {
		t.Errorf("Code.String is wrong")
	}
}

func TestNonceLine(t *testing.T) {
	for text, want := range map[string]string{
		"a\nNonce: abc\nIssued At: x": "abc",
		"Nonce: first\nNonce: second": "first",
		"a\nNonce: \nb":               "",
		"a\nnonce: abc":               "",
		"":                            "",
	} {
		got, ok := nonceLine(text)
		if got != want || ok != (want != "") {
			t.Errorf("nonceLine(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
}
