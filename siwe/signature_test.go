package siwe

import (
	"bytes"
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

func TestTextHash(t *testing.T) {
	tests := []struct{ message, want string }{
		// go-ethereum accounts.TestTextHash.
		{"Hello Joe", "0xa080337ae51c4e064c189e113edd0ba391df9206e2f49db658bb32cf2911730b"},
		// The length is the decimal byte count, not the rune count.
		{"héllo", crypto.Keccak256Hash([]byte("\x19Ethereum Signed Message:\n6héllo")).Hex()},
		{"", crypto.Keccak256Hash([]byte("\x19Ethereum Signed Message:\n0")).Hex()},
	}
	for _, tt := range tests {
		if got := TextHash([]byte(tt.message)).Hex(); got != tt.want {
			t.Errorf("TextHash(%q) = %s, want %s", tt.message, got, tt.want)
		}
	}
}

func TestEOAChecker(t *testing.T) {
	key := newKey(t)
	addr := crypto.PubkeyToAddress(key.PublicKey)
	hash := TextHash([]byte("sign in"))
	good, err := crypto.Sign(hash[:], key) // v is 0 or 1
	if err != nil {
		t.Fatal(err)
	}
	with := func(edit func(sig []byte) []byte) []byte {
		return edit(bytes.Clone(good))
	}
	other := newKey(t)
	otherSig, _ := crypto.Sign(hash[:], other)
	n := crypto.S256().Params().N.FillBytes(make([]byte, 32))

	tests := []struct {
		name     string
		sig      []byte
		fragment string // empty: accepted
	}{
		{"v 0 or 1", good, ""},
		{"v 27 or 28", with(func(s []byte) []byte { s[64] += 27; return s }), ""},
		{"0 bytes", nil, "signature must be 65 bytes"},
		{"63 bytes", good[:63], "signature must be 65 bytes"},
		{"compact (EIP-2098)", compact(good), ""},
		{"compact, other key", compact(otherSig), "signature does not match the address"},
		{"66 bytes", append(bytes.Clone(good), 0), "signature must be 65 bytes"},
		{"v 2", with(func(s []byte) []byte { s[64] = 2; return s }), "invalid recovery id"},
		{"v 29", with(func(s []byte) []byte { s[64] = 29; return s }), "invalid recovery id"},
		{"v 255", with(func(s []byte) []byte { s[64] = 255; return s }), "invalid recovery id"},
		{"other v", with(func(s []byte) []byte { s[64] ^= 1; return s }), "signature does not match the address"},
		{"other key", otherSig, "signature does not match the address"},
		{"r zero", with(func(s []byte) []byte { clear(s[:32]); return s }), "not a valid secp256k1 signature"},
		{"s zero", with(func(s []byte) []byte { clear(s[32:64]); return s }), "not a valid secp256k1 signature"},
		{"s is the group order", with(func(s []byte) []byte { copy(s[32:64], n); return s }), "not a valid secp256k1 signature"},
		{"all zero", make([]byte, 65), "not a valid secp256k1 signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := bytes.Clone(tt.sig)
			signer, err := EOAChecker{}.CheckSignature(context.Background(), 1, addr, hash, in)
			if !bytes.Equal(in, tt.sig) {
				t.Errorf("CheckSignature modified its input")
			}
			if tt.fragment == "" {
				if err != nil || signer != addr {
					t.Fatalf("CheckSignature = %v, %v; want %v", signer, err, addr)
				}
				return
			}
			wantError(t, err, CodeInvalidGrant, tt.fragment)
			if signer != (common.Address{}) {
				t.Errorf("signer %v returned with an error", signer)
			}
		})
	}
}

func TestParseSignature(t *testing.T) {
	sig65 := strings.Repeat("ab", 65)
	tests := []struct {
		in       string
		want     string // hex of the bytes; empty means error
		code     Code
		fragment string
	}{
		{"0x" + sig65, sig65, 0, ""},
		{"0X" + strings.ToUpper(sig65), sig65, 0, ""},
		{sig65, sig65, 0, ""},
		{"0x00", "00", 0, ""},
		{"", "", CodeInvalidRequest, "signature is not hex"},
		{"0x", "", CodeInvalidRequest, "signature is not hex"},
		{"0x0", "", CodeInvalidRequest, "signature is not hex"},
		{"0xzz", "", CodeInvalidRequest, "signature is not hex"},
		{" 0x00", "", CodeInvalidRequest, "signature is not hex"},
		{"0x00 ", "", CodeInvalidRequest, "signature is not hex"},
		{"0x0x00", "", CodeInvalidRequest, "signature is not hex"},
		{"0x" + strings.Repeat("00", MaxSignatureBytes), strings.Repeat("00", MaxSignatureBytes), 0, ""},
		{"0x" + strings.Repeat("00", MaxSignatureBytes+1), "", CodeInvalidRequest, "signature is too long"},
	}
	for _, tt := range tests {
		got, err := parseSignature(tt.in)
		name := tt.in
		if len(name) > 20 {
			name = name[:20] + "…"
		}
		if tt.want != "" {
			if err != nil || hex.EncodeToString(got) != tt.want {
				t.Errorf("parseSignature(%q) = %x, %v; want %s", name, got, err, tt.want)
			}
			continue
		}
		if got != nil || err == nil {
			t.Errorf("parseSignature(%q) = %x, %v; want an error", name, got, err)
			continue
		}
		wantError(t, err, tt.code, tt.fragment)
	}
}
