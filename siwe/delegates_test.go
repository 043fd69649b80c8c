package siwe

import (
	"context"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// delegateList answers Delegates with a fixed list, or an error.
type delegateList struct {
	keys  []common.Address
	err   error
	calls int
}

func (d *delegateList) Delegates(_ context.Context, _ *Challenge) ([]common.Address, error) {
	d.calls++
	return d.keys, d.err
}

// TestVerifyDelegates: a developer license (the account) is signed for by one
// of its enabled signers, checked offline; the result names that signer.
func TestVerifyDelegates(t *testing.T) {
	license := common.HexToAddress("0x00000000000000000000000000000000000011ce")
	signerKey := newKey(t)
	enabled := crypto.PubkeyToAddress(signerKey.PublicKey)
	issueFor := func(t *testing.T, e *testEnv) *Challenge {
		c, err := e.v.Issue(context.Background(), IssueRequest{Address: license.Hex(), ClientID: license.Hex()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("enabled signer", func(t *testing.T) {
		d := &delegateList{keys: []common.Address{enabled}}
		e := newTestEnv(t, WithDelegates(d))
		c := issueFor(t, e)
		res, err := e.v.Verify(context.Background(), c.Message, sign(t, signerKey, c.Message), Expect{ClientID: license.Hex()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Address != license || res.Signer != enabled {
			t.Fatalf("address %s signer %s, want %s signed by %s", res.Address, res.Signer, license, enabled)
		}
	})
	t.Run("key that is not enabled", func(t *testing.T) {
		e := newTestEnv(t, WithDelegates(&delegateList{keys: []common.Address{enabled}}))
		c := issueFor(t, e)
		_, err := e.v.Verify(context.Background(), c.Message, sign(t, newKey(t), c.Message), Expect{})
		wantError(t, err, CodeInvalidGrant, "does not match")
		// The challenge survives a rejected signer.
		if _, err := e.v.Verify(context.Background(), c.Message, sign(t, signerKey, c.Message), Expect{}); err != nil {
			t.Fatalf("enabled signer after a rejected one: %v", err)
		}
	})
	t.Run("no delegates configured", func(t *testing.T) {
		e := newTestEnv(t)
		c := issueFor(t, e)
		_, err := e.v.Verify(context.Background(), c.Message, sign(t, signerKey, c.Message), Expect{})
		wantError(t, err, CodeInvalidGrant, "does not match")
	})
	t.Run("signer list unavailable", func(t *testing.T) {
		e := newTestEnv(t, WithDelegates(&delegateList{err: errors.New("db down")}))
		c := issueFor(t, e)
		_, err := e.v.Verify(context.Background(), c.Message, sign(t, signerKey, c.Message), Expect{})
		wantError(t, err, CodeUnavailable, "signer list")
	})
	t.Run("the account's own key needs no lookup", func(t *testing.T) {
		d := &delegateList{err: errors.New("must not be asked")}
		e := newTestEnv(t, WithDelegates(d))
		c := e.issue(t)
		if _, err := e.v.Verify(context.Background(), c.Message, sign(t, e.key, c.Message), Expect{}); err != nil || d.calls != 0 {
			t.Fatalf("err %v, %d lookups", err, d.calls)
		}
	})
}

// TestVerifyPreloadedChallenge: a caller that loaded the challenge by ID
// passes it in; a message carrying another challenge's nonce is refused.
func TestVerifyPreloadedChallenge(t *testing.T) {
	e := newTestEnv(t)
	c1, c2 := e.issue(t), e.issue(t)
	_, err := e.v.Verify(context.Background(), c2.Message, sign(t, e.key, c2.Message), Expect{Challenge: c1})
	wantError(t, err, CodeInvalidGrant, "different challenge")
	res, err := e.v.Verify(context.Background(), c1.Message, sign(t, e.key, c1.Message), Expect{Challenge: c1})
	if err != nil || res.Challenge.ID != c1.ID {
		t.Fatalf("preloaded challenge: %v", err)
	}
	_, err = e.v.Verify(context.Background(), c1.Message, sign(t, e.key, c1.Message), Expect{Challenge: c1})
	wantError(t, err, CodeInvalidGrant, "already used")
}
