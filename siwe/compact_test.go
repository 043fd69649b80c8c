package siwe

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// compact returns the EIP-2098 compact form (r, yParityAndS) of a 65-byte
// signature whose v is 0, 1, 27 or 28.
func compact(sig []byte) []byte {
	out := bytes.Clone(sig[:64])
	out[32] |= (sig[64] % 27) << 7
	return out
}

// TestRecoverEIP2098Vectors checks Recover against the test cases of
// EIP-2098 "Test Cases".
func TestRecoverEIP2098Vectors(t *testing.T) {
	key, err := crypto.HexToECDSA("1234567890123456789012345678901234567890123456789012345678901234")
	if err != nil {
		t.Fatal(err)
	}
	want := crypto.PubkeyToAddress(key.PublicKey)
	for _, tt := range []struct {
		message, r, s, yParityAndS string
		v                          byte
	}{
		{"Hello World",
			"68a020a209d3d56c46f38cc50a33f704f4a9a10a59377f8dd762ac66910e9b90",
			"7e865ad05c4035ab5792787d4a0297a43617ae897930a6fe4d822b8faea52064",
			"7e865ad05c4035ab5792787d4a0297a43617ae897930a6fe4d822b8faea52064", 27},
		{"It's a small(er) world",
			"9328da16089fcba9bececa81663203989f2df5fe1faa6291a45381c81bd17f76",
			"139c6d6b623b42da56557e5e734a43dc83345ddfadec52cbe24d0cc64f550793",
			"939c6d6b623b42da56557e5e734a43dc83345ddfadec52cbe24d0cc64f550793", 28},
	} {
		t.Run(tt.message, func(t *testing.T) {
			hash := TextHash([]byte(tt.message))
			full := append(common.FromHex(tt.r+tt.s), tt.v)
			short := common.FromHex(tt.r + tt.yParityAndS)
			if !bytes.Equal(compact(full), short) {
				t.Fatalf("compact form %x, want %x", compact(full), short)
			}
			for _, sig := range [][]byte{full, short} {
				got, err := Recover(hash, sig)
				if err != nil || got != want {
					t.Fatalf("Recover(%d bytes) = %v, %v; want %v", len(sig), got, err, want)
				}
			}
		})
	}
}

// TestVerifyCompactSignature: a plain account's EIP-2098 compact signature
// is accepted like the 65-byte one, by the default checker and by the
// contract-wallet checker that serve uses, without asking a node.
func TestVerifyCompactSignature(t *testing.T) {
	node := &stubCaller{codeErr: errors.New("node down")}
	checkers := map[string][]Option{
		"EOA checker":                  nil,
		"contract checker without RPC": {WithSignatureChecker(NewContractChecker(nil, 0))},
		"contract checker, node down":  {WithSignatureChecker(NewContractChecker(map[int64]ContractCaller{1: node}, 0))},
	}
	for name, opts := range checkers {
		t.Run(name, func(t *testing.T) {
			for _, v := range []byte{0, 1} {
				env := newTestEnv(t, opts...)
				var sig []byte
				var c *Challenge
				for { // a challenge whose signature has y parity v
					c = env.issue(t)
					if sig = signRaw(t, env.key, c.Message); sig[64] == v {
						break
					}
				}
				sigHex := "0x" + hex.EncodeToString(compact(sig))
				res, err := env.v.Verify(context.Background(), c.Message, sigHex, Expect{})
				if err != nil {
					t.Fatalf("y parity %d: %v", v, err)
				}
				if res.Signer != env.addr || res.SignatureHex != sigHex {
					t.Fatalf("y parity %d: signer %v, signature %s; want %v, %s as submitted", v, res.Signer, res.SignatureHex, env.addr, sigHex)
				}
			}
		})
	}
	if node.calls != 0 {
		t.Errorf("the node was asked %d times about a plain account", node.calls)
	}
}

// TestVerifyCompactSignatureRefused: a compact signature of another key, or
// one that breaks EIP-2098's rules, is refused as a 65-byte one would be;
// lengths other than 64 and 65 still are.
func TestVerifyCompactSignatureRefused(t *testing.T) {
	other := newKey(t)
	halfN := new(big.Int).Rsh(crypto.S256().Params().N, 1)
	for _, tt := range []struct {
		name     string
		sig      func(t *testing.T, env *testEnv, c *Challenge) []byte
		fragment string
	}{
		{"another key", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			return compact(signRaw(t, other, c.Message))
		}, "signature does not match the address"},
		{"other text", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			return compact(signRaw(t, env.key, c.Message+" "))
		}, "signature does not match the address"},
		// EIP-2098 relies on EIP-2: s is at most n/2, so its top bit is free.
		{"s above n/2", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			sig := compact(signRaw(t, env.key, c.Message))
			new(big.Int).Add(halfN, big.NewInt(1)).FillBytes(sig[32:64])
			return sig
		}, "not a valid secp256k1 signature"},
		{"r zero", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			sig := compact(signRaw(t, env.key, c.Message))
			clear(sig[:32])
			return sig
		}, "not a valid secp256k1 signature"},
		{"63 bytes", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			return signRaw(t, env.key, c.Message)[:63]
		}, "signature must be 65 bytes"},
		{"66 bytes", func(t *testing.T, env *testEnv, c *Challenge) []byte {
			return append(signRaw(t, env.key, c.Message), 0)
		}, "signature must be 65 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			c := env.issue(t)
			_, err := env.v.Verify(context.Background(), c.Message, "0x"+hex.EncodeToString(tt.sig(t, env, c)), Expect{})
			wantError(t, err, CodeInvalidGrant, tt.fragment)
			if env.store.isUsed(c.ID) {
				t.Errorf("a refused signature consumed the challenge")
			}
		})
	}
}

// TestCompactSignatureOfDelegate: a registered signer of a developer
// license may sign in compact form too.
func TestCompactSignatureOfDelegate(t *testing.T) {
	license := common.HexToAddress("0x00000000000000000000000000000000000011ce")
	signerKey := newKey(t)
	enabled := crypto.PubkeyToAddress(signerKey.PublicKey)
	env := newTestEnv(t, WithDelegates(&delegateList{keys: []common.Address{enabled}}))
	c, err := env.v.Issue(context.Background(), IssueRequest{Address: license.Hex(), ClientID: license.Hex()})
	if err != nil {
		t.Fatal(err)
	}
	sig := "0x" + hex.EncodeToString(compact(signRaw(t, signerKey, c.Message)))
	res, err := env.v.Verify(context.Background(), c.Message, sig, Expect{})
	if err != nil || res.Signer != enabled {
		t.Fatalf("signer %v, %v; want %v", res, err, enabled)
	}
}

// Sixty-four bytes that are not the account's compact signature may be a
// contract wallet's own format: the checker gets them exactly as sent, and
// no key recovered from them is named as the signer.
func TestSixtyFourBytesReachTheContractChecker(t *testing.T) {
	var got []byte
	env := newTestEnv(t, WithSignatureChecker(checkerFunc(func(_ context.Context, _ int64, account common.Address, _ common.Hash, sig []byte) (common.Address, error) {
		got = sig
		return account, nil
	})))
	c := env.issue(t)
	sent := bytes.Repeat([]byte{0x2b}, 64)
	res, err := env.v.Verify(context.Background(), c.Message, "0x"+hex.EncodeToString(sent), Expect{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent) || res.Signer != env.addr {
		t.Fatalf("checker got %x, signer %v; want the bytes sent and the account %v", got, res.Signer, env.addr)
	}

	// The contract-wallet checker asks the wallet (ERC-1271) about them.
	wallet := common.HexToAddress("0x00000000000000000000000000000000000000a1")
	node := &stubCaller{code: []byte{0x60}, out: append([]byte{0x16, 0x26, 0xba, 0x7e}, make([]byte, 28)...)}
	signer, err := NewContractChecker(map[int64]ContractCaller{1: node}, 0).CheckSignature(context.Background(), 1, wallet, TextHash([]byte("x")), sent)
	if err != nil || signer != wallet || node.calls != 2 {
		t.Fatalf("signer %v, %v after %d calls; want %v after CodeAt and isValidSignature", signer, err, node.calls, wallet)
	}
}
