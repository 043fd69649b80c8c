package siwe

import (
	"context"
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
)

// fuzzKey is a fixed test key, so that the seed signatures stay valid between runs.
const fuzzKey = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"

// newFuzzEnv returns a test env whose key, clock and randomness are fixed, and
// the challenge it issued; every call yields the same challenge text.
func newFuzzEnv(t testing.TB) (*testEnv, *Challenge) {
	t.Helper()
	env := newTestEnv(t)
	key, err := crypto.HexToECDSA(fuzzKey)
	if err != nil {
		t.Fatal(err)
	}
	env.key, env.addr = key, crypto.PubkeyToAddress(key.PublicKey)
	return env, env.issue(t)
}

// checkError fails unless err is a well-formed *Error other than
// CodeUnavailable (the in-memory store never fails).
func checkError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e == nil {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Code != CodeInvalidRequest && e.Code != CodeInvalidGrant {
		t.Fatalf("unexpected code %v: %v", e.Code, e)
	}
	if e.Description == "" {
		t.Fatalf("error without description: %v", e)
	}
	return e
}

func FuzzVerify(f *testing.F) {
	env, c := newFuzzEnv(f)
	f.Add(c.Message, signRaw(f, env.key, c.Message))
	agent := agentMessage(f, c, nil)
	f.Add(agent, signRaw(f, env.key, agent))
	f.Add(c.Message, []byte{})
	f.Add("", []byte{1})

	type positive struct {
		Message string `json:"message"`
	}
	for _, tc := range loadVectors[positive](f, "parsing_positive.json") {
		f.Add(tc.Message, []byte{})
	}
	for _, text := range loadVectors[string](f, "parsing_negative.json") {
		f.Add(text, []byte{})
	}
	for _, text := range loadVectors[string](f, "invalid_uris.json") {
		f.Add(text, []byte{})
	}

	// Issuing costs as much as verifying, so the challenge is reused until an
	// input consumes it; every input still meets an unused challenge.
	env, c = nil, nil
	f.Fuzz(func(t *testing.T, message string, sig []byte) {
		if env == nil || env.store.isUsed(c.ID) {
			env, c = newFuzzEnv(t)
		}
		res, err := env.v.Verify(context.Background(), message, "0x"+hex.EncodeToString(sig), Expect{})
		if err != nil {
			checkError(t, err)
			if env.store.isUsed(c.ID) {
				t.Fatalf("a rejected submission consumed the challenge: %v", err)
			}
			return
		}
		// Accepted: it must be a signature by the challenge's key over these
		// exact bytes, carrying the challenge's nonce.
		if res.Message != message || res.Address != env.addr || res.Challenge.ID != c.ID || !env.store.isUsed(c.ID) {
			t.Fatalf("inconsistent result %+v", res)
		}
		if signer, err := (EOAChecker{}).CheckSignature(context.Background(), 1, env.addr, TextHash([]byte(message)), sig); err != nil || signer != env.addr {
			t.Fatalf("accepted a signature that does not recover the address: %v", err)
		}
		if p, err := parseMessage(message); err != nil || p.Nonce != c.Nonce {
			t.Fatalf("accepted a message without the challenge's nonce: %v", err)
		}
	})
}

func FuzzParseSignature(f *testing.F) {
	key, err := crypto.HexToECDSA(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	addr := crypto.PubkeyToAddress(key.PublicKey)
	hash := TextHash([]byte("fuzz"))
	good, err := crypto.Sign(hash[:], key)
	if err != nil {
		f.Fatal(err)
	}
	v27 := append(good[:64:64], good[64]+27)
	for _, s := range []string{
		"0x" + hex.EncodeToString(good),
		"0x" + hex.EncodeToString(v27),
		strings.ToUpper(hex.EncodeToString(v27)),
		"0x" + hex.EncodeToString(good[:64]),
		"0x" + hex.EncodeToString(compact(good)),
		"0x" + hex.EncodeToString(append(good, 0)),
		"0x" + strings.Repeat("00", 64) + "1d",
		"", "0x", "0x0", "0xzz", "0X00",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, s string) {
		sig, err := parseSignature(s)
		if err != nil {
			if e := checkError(t, err); e.Code != CodeInvalidRequest || sig != nil {
				t.Fatalf("parseSignature(%q) = %x, %v", s, sig, e)
			}
			return
		}
		digits := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
		if hex.EncodeToString(sig) != strings.ToLower(digits) {
			t.Fatalf("parseSignature(%q) = %x: not the same bytes", s, sig)
		}
		signer, err := EOAChecker{}.CheckSignature(context.Background(), 1, addr, hash, sig)
		if err != nil {
			if e := checkError(t, err); e.Code != CodeInvalidGrant {
				t.Fatalf("CheckSignature: %v", e)
			}
			return
		}
		if signer != addr {
			t.Fatalf("CheckSignature accepted signer %v for %v", signer, addr)
		}
		switch v := sig[len(sig)-1]; len(sig) {
		case 65:
			if v != 0 && v != 1 && v != 27 && v != 28 {
				t.Fatalf("CheckSignature accepted a 65-byte signature with v %d: %x", v, sig)
			}
		case 64: // EIP-2098: s, below the y parity bit, is at most n/2 (EIP-2)
			s := new(big.Int).SetBytes(sig[32:64])
			if s.SetBit(s, 255, 0).Cmp(new(big.Int).Rsh(crypto.S256().Params().N, 1)) > 0 {
				t.Fatalf("CheckSignature accepted a compact signature whose s exceeds n/2: %x", sig)
			}
		default:
			t.Fatalf("CheckSignature accepted a signature of %d bytes: %x", len(sig), sig)
		}
	})
}

// FuzzSIWA feeds SIWA-shaped text and signatures to the verifier: whatever
// it accepts is a strict SIWA message, with an agent, signed by the
// challenge's key over these exact bytes and carrying its nonce; whatever it
// refuses is a well-formed *Error that leaves the challenge unused.
func FuzzSIWA(f *testing.F) {
	env, c := newFuzzEnv(f)
	good := siwaFor(c, env.key)
	f.Add(good.text(), signRaw(f, env.key, good.text()))
	bare := good
	bare.Statement, bare.Expires, bare.NotBefore, bare.RequestID = "", "", good.IssuedAt, "r-1"
	f.Add(bare.text(), signRaw(f, env.key, bare.text()))
	for _, fx := range loadSIWAFixtures(f) {
		f.Add(fx.Message, []byte{})
	}
	f.Add(strings.Replace(good.text(), "Agent ID: 42", "Agent ID: 0042", 1), []byte{1})
	f.Add(strings.ReplaceAll(good.text(), "\n", "\r\n"), []byte{})

	env, c = nil, nil
	f.Fuzz(func(t *testing.T, message string, sig []byte) {
		if m, err := parseSIWA(message); err == nil {
			if !isSIWA(message) || m.Agent == nil || m.Agent.ID < 0 || m.Agent.Registry.ChainID <= 0 || strings.Contains(message, "\r") ||
				len(m.Nonce) < 8 || !isAlphanumeric(m.Nonce) || m.Address.Hex() != strings.Split(message, "\n")[1] {
				t.Fatalf("parseSIWA accepted %q as %+v", message, m)
			}
		}
		if env == nil || env.store.isUsed(c.ID) {
			env, c = newFuzzEnv(t)
		}
		res, err := env.v.Verify(context.Background(), message, "0x"+hex.EncodeToString(sig), Expect{Agent: true})
		if err != nil {
			checkError(t, err)
			if env.store.isUsed(c.ID) {
				t.Fatalf("a rejected submission consumed the challenge: %v", err)
			}
			return
		}
		if res.Agent == nil || res.Message != message || res.Address != env.addr || res.Challenge.ID != c.ID || !env.store.isUsed(c.ID) {
			t.Fatalf("inconsistent result %+v", res)
		}
		if signer, err := (EOAChecker{}).CheckSignature(context.Background(), 1, env.addr, TextHash([]byte(message)), sig); err != nil || signer != env.addr {
			t.Fatalf("accepted a signature that does not recover the address: %v", err)
		}
		if p, err := parseSIWA(message); err != nil || p.Nonce != c.Nonce {
			t.Fatalf("accepted a message without the challenge's nonce: %v", err)
		}
	})
}
