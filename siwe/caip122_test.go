package siwe

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/stellartest"
	"github.com/signet-id/signet/siwe/stellar"
)

// issueStellar issues a challenge for key's account with client "app", as
// the headless API asks for one.
func (e *testEnv) issueStellar(t testing.TB, key *stellartest.Key) *Challenge {
	t.Helper()
	addr, err := stellar.ParseAddress(key.Address())
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.v.Issue(context.Background(), IssueRequest{Stellar: addr, ClientID: "app", Scopes: []string{"openid"}, Statement: "Sign in to App with your Stellar account."})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return c
}

// TestStellarChallengeText: the challenge is CAIP-122 in EIP-4361's layout,
// with Stellar's name and Chain ID, built and stored by the server.
func TestStellarChallengeText(t *testing.T) {
	e := newTestEnv(t)
	key := stellartest.New(t)
	c := e.issueStellar(t, key)
	want := testDomain + " wants you to sign in with your Stellar account:\n" + key.Address() + "\n\n" +
		"Sign in to App with your Stellar account.\n\nURI: " + testURI + "\nVersion: 1\nChain ID: pubnet\nNonce: " + c.Nonce +
		"\nIssued At: 2025-06-01T12:00:00.123Z\nExpiration Time: 2025-06-01T12:05:00.123Z"
	if c.Message != want {
		t.Fatalf("message:\n%s\nwant:\n%s", c.Message, want)
	}
	if !c.IsStellar() || !c.ByAccount || c.Address != (common.Address{}) || c.ChainID != 0 || c.Account() != key.Address() || len(c.Nonce) < 16 {
		t.Fatalf("challenge %+v", c)
	}
	if stored, err := e.store.ChallengeByNonce(context.Background(), c.Nonce); err != nil || stored.Message != want {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	for name, r := range map[string]IssueRequest{
		"two-line statement": {Stellar: c.Stellar, ClientID: "app", Statement: "a\nb"},
		"resources":          {Stellar: c.Stellar, ClientID: "app", Resources: []string{"https://a.example"}},
	} {
		if _, err := e.v.Issue(context.Background(), r); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
}

// TestStellarCheck: a Stellar account's signature over its challenge's
// exact text, raw or SEP-53, hex with or without 0x, signs in once; every
// other case is refused with the check that failed.
func TestStellarCheck(t *testing.T) {
	key, stranger := stellartest.New(t), stellartest.New(t)
	for name, sign := range map[string]func(string) string{
		"raw":            key.Sign,
		"SEP-53":         key.SignSEP53,
		"raw with 0x":    func(m string) string { return "0x" + key.Sign(m) },
		"raw upper case": func(m string) string { return strings.ToUpper(key.Sign(m)) },
	} {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			c := e.issueStellar(t, key)
			res, err := e.v.Verify(context.Background(), c.Message, sign(c.Message), Expect{ClientID: "app", Stellar: true, Headless: true})
			if err != nil {
				t.Fatal(err)
			}
			if res.Challenge.ID != c.ID || res.Account.Subject != "stellar:pubnet:"+key.Address() || res.Account.Address != key.Address() ||
				len(res.Signature) != 64 || res.Address != (common.Address{}) || res.ChainID != 0 || res.Message != c.Message {
				t.Fatalf("result %+v", res)
			}
			_, err = e.v.Verify(context.Background(), c.Message, sign(c.Message), Expect{Stellar: true})
			wantCheck(t, err, CodeInvalidGrant, CheckUsed)
		})
	}
	e := newTestEnv(t)
	c := e.issueStellar(t, key)
	check := func(message, signature string, expect Expect) error {
		_, err := e.v.Check(context.Background(), message, signature, expect)
		return err
	}
	yes := Expect{Stellar: true}
	altered := replaceOnce(t, c.Message, "Sign in to App", "Sign in to Apq")
	wantCheck(t, check(c.Message, stranger.Sign(c.Message), yes), CodeInvalidGrant, CheckSigner)
	wantCheck(t, check(altered, key.Sign(altered), yes), CodeInvalidGrant, CheckMessage)
	wantCheck(t, check(c.Message+"\n", key.Sign(c.Message+"\n"), yes), CodeInvalidGrant, CheckMessage)
	badNonce := replaceOnce(t, c.Message, "Nonce: "+c.Nonce, "Nonce: "+c.Nonce+"x")
	wantCheck(t, check(badNonce, key.Sign(badNonce), yes), CodeInvalidGrant, CheckNonce)
	wantCheck(t, check(c.Message, key.Sign(c.Message), Expect{Stellar: true, ClientID: "other"}), CodeInvalidGrant, CheckNonce)
	wantCheck(t, check(c.Message, key.Sign(c.Message), Expect{}), CodeInvalidGrant, CheckNonce)
	wantCheck(t, check(c.Message, key.Sign(c.Message), Expect{Stellar: true, Agent: true}), CodeInvalidRequest, CheckMessage)
	wantCheck(t, check(c.Message, key.Sign(c.Message)[:120], yes), CodeInvalidRequest, CheckSignature)
	wantCheck(t, check(c.Message, "zz"+key.Sign(c.Message)[2:], yes), CodeInvalidRequest, CheckSignature)
	// The same signature checked against a challenge the caller loaded.
	if _, err := e.v.Check(context.Background(), c.Message, key.Sign(c.Message), Expect{Stellar: true, Challenge: c}); err != nil {
		t.Fatalf("with the challenge given: %v", err)
	}
	// An EIP-4361 text that carries the Stellar challenge's nonce.
	evm := agentMessage(t, &Challenge{Address: e.addr, ChainID: 1, Nonce: c.Nonce}, nil)
	wantCheck(t, check(evm, sign(t, e.key, evm), yes), CodeInvalidGrant, CheckMessage)
	// A Stellar text that carries an Ethereum challenge's nonce.
	ec := e.issue(t)
	forged := replaceOnce(t, c.Message, "Nonce: "+c.Nonce, "Nonce: "+ec.Nonce)
	wantCheck(t, check(forged, key.Sign(forged), yes), CodeInvalidGrant, CheckMessage)

	e.clock.Advance(DefaultLifetime)
	wantCheck(t, check(c.Message, key.Sign(c.Message), yes), CodeInvalidGrant, CheckExpired)
}

// wantCheck fails unless err is an *Error with code and check.
func wantCheck(t testing.TB, err error, code Code, check Check) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Check != check {
		t.Fatalf("error %v, want %v with check %d", err, code, check)
	}
}
