package stellar

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// The SEP-53 test cases (stellar-protocol ecosystem/sep-0053.md, "Test
// cases"): one key, three messages.
const (
	sep53Seed     = "SAKICEVQLYWGSOJS4WW7HZJWAHZVEEBS527LHK5V4MLJALYKICQCJXMW"
	sep53Address  = "GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L"
	sep53HelloSig = "7cee5d6d885752104c85eea421dfdcb95abf01f1271d11c4bec3fcbd7874dccd" +
		"6e2e98b97b8eb23b643cac4073bb77de5d07b0710139180ae9f3cbba78f2ba04"
)

// publishedSignature is a signature someone else's software made.
type publishedSignature struct {
	name      string
	sep53     bool // made over sep53Hash(message), else over message
	address   Address
	message   []byte
	signature string
}

// publishedSignatures returns the published signatures, raw and SEP-53.
func publishedSignatures(t *testing.T) []publishedSignature {
	t.Helper()
	sep53 := mustParse(t, sep53Address)
	binary, err := base64.StdEncoding.DecodeString("2zZDP1sa1BVBfLP7TeeMk3sUbaxAkUhBhDiNdrksaFo=")
	if err != nil {
		t.Fatal(err)
	}
	return []publishedSignature{
		{"SEP-53 case 1, ASCII", true, sep53, []byte("Hello, World!"), sep53HelloSig},
		{"SEP-53 case 2, Japanese", true, sep53, []byte("こんにちは、世界！"),
			"083536eb95ecf32dce59b07fe7a1fd8cf814b2ce46f40d2a16e4ea1f6cecd980" +
				"e04e6fbef9d21f98011c785a81edb85f3776a6e7d942b435eb0adc07da4d4604"},
		{"SEP-53 case 3, binary", true, sep53, binary,
			"540d7eee179f370bf634a49c1fa9fe4a58e3d7990b0207be336c04edfcc539ff" +
				"8bd0c31bb2c0359b07c9651cb2ae104e4504657b5d17d43c69c7e50e23811b0d"},
		// Raw ed25519 over the message bytes: stellar/go keypair/main_test.go
		// (the address, message and signature variables).
		{"stellar/go keypair, raw", false, mustParse(t, "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"), []byte("hello"),
			"2e75cc20d519111caaaadddf464bb650d2eaf0a5d18d745693a16100f2a4937b" +
				"c1dffa8b0b1f61a276996d7ee8deb2d0dd9ee510556077b02dec16792e915c0a"},
		// Raw ed25519, as stellar_sdk's Keypair.sign makes it:
		// StellarCN/py-stellar-base tests/test_keypair.py, test_sign_and_verify
		// (the test gives the seed; the account is the seed's).
		{"py-stellar-base Keypair.sign, raw", false, seedAddress(t, "SAQVS3IPN6U3TBMTXQH32ZESY7SUOZGLEFBH6XWMA6DVNPJ4CLO5M54B"), []byte("Hello, overcat!"),
			"ff7c4346977144019e7be0c12c033e99f412e70361924e298e6152dd924c88f2" +
				"725c60c56067f20c35a8ff29c936b983f652b4df2d9de8f2851605df2f680c06"},
	}
}

func TestVerifyPublished(t *testing.T) {
	for _, v := range publishedSignatures(t) {
		t.Run(v.name, func(t *testing.T) {
			checkScheme(t, v)
			for _, sig := range []string{v.signature, "0x" + v.signature, "0X" + strings.ToUpper(v.signature)} {
				if err := Verify(v.address, v.message, sig); err != nil {
					t.Errorf("Verify(%s): %v", sig[:8], err)
				}
			}
			other := append([]byte("x"), v.message...)
			if err := Verify(v.address, other, v.signature); err != ErrWrongSigner {
				t.Errorf("Verify over another message = %v, want ErrWrongSigner", err)
			}
			if err := Verify(mustParse(t, sep23Address), v.message, v.signature); err != ErrWrongSigner {
				t.Errorf("Verify by another account = %v, want ErrWrongSigner", err)
			}
		})
	}
}

// checkScheme fails unless v's signature is over exactly what v.sep53
// says, so that the vectors exercise each of Verify's two ways.
func checkScheme(t *testing.T, v publishedSignature) {
	t.Helper()
	sig, err := hex.DecodeString(v.signature)
	if err != nil {
		t.Fatal(err)
	}
	pub := v.address.PublicKey()
	raw, sep53 := ed25519.Verify(pub, v.message, sig), ed25519.Verify(pub, sep53Hash(v.message), sig)
	if raw == v.sep53 || sep53 != v.sep53 {
		t.Fatalf("signature verifies raw: %v, SEP-53: %v; want SEP-53 only: %v", raw, sep53, v.sep53)
	}
}

// sep23Address is the account of the SEP-23 test vectors.
const sep23Address = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"

func TestVerifyMalformed(t *testing.T) {
	addr := mustParse(t, sep53Address)
	tests := []struct {
		name, signature, reason string
	}{
		{"empty", "", "not 0"},
		{"prefix only", "0x", "not 0"},
		{"63 bytes", sep53HelloSig[:126], "not 126"},
		{"65 bytes", sep53HelloSig + "00", "not 130"},
		{"odd length", sep53HelloSig[:127], "not 127"},
		{"base64", "fO5dbYhXUhBMhe6kId/cuVq/AfEnHRHEvsP8vXh03M1uLpi5e46yO2Q8rEBzu3feXQewcQE5GArp88u6ePK6BA==", "128 hex digits"},
		{"not hex", strings.Repeat("zz", 64), "not hex"},
		{"space inside", sep53HelloSig[:64] + " " + sep53HelloSig[65:], "not hex"},
		{"double prefix", "0x0x" + sep53HelloSig[2:], "not hex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(addr, []byte("Hello, World!"), tt.signature)
			if !errors.Is(err, ErrMalformedSignature) || errors.Is(err, ErrWrongSigner) {
				t.Fatalf("Verify = %v, want only ErrMalformedSignature", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// TestVerifyRoundTrip signs with crypto/ed25519, both ways, and checks that
// every flipped bit of the signature, the message or the key is refused.
func TestVerifyRoundTrip(t *testing.T) {
	key := seedKey(t, sep53Seed)
	addr := addressOf(key.Public().(ed25519.PublicKey))
	message := []byte("signet.example wants you to sign in with your Stellar account:\n" + sep53Address)
	for _, tt := range []struct {
		name   string
		signed []byte
	}{{"raw", message}, {"SEP-53", sep53Hash(message)}} {
		t.Run(tt.name, func(t *testing.T) {
			sig := ed25519.Sign(key, tt.signed)
			if err := Verify(addr, message, hex.EncodeToString(sig)); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			for bit := range 8 * len(sig) {
				if err := Verify(addr, message, hex.EncodeToString(flip(sig, bit))); err != ErrWrongSigner {
					t.Fatalf("signature bit %d flipped: Verify = %v, want ErrWrongSigner", bit, err)
				}
			}
			for bit := range 8 * len(message) {
				if err := Verify(addr, flip(message, bit), hex.EncodeToString(sig)); err != ErrWrongSigner {
					t.Fatalf("message bit %d flipped: Verify = %v, want ErrWrongSigner", bit, err)
				}
			}
			for bit := range 8 * len(addr.key) {
				other := addressOf(flip(addr.key[:], bit))
				if err := Verify(other, message, hex.EncodeToString(sig)); !errors.Is(err, ErrWrongSigner) {
					t.Fatalf("key bit %d flipped: Verify = %v, want ErrWrongSigner", bit, err)
				}
			}
		})
	}
}

// TestVerifySmallOrderKeys shows that for each key hasSmallOrder lists,
// crypto/ed25519 accepts a signature anyone can make (R the identity, S = 0)
// over some message, and that Verify refuses it.
func TestVerifySmallOrderKeys(t *testing.T) {
	forged := make([]byte, ed25519.SignatureSize)
	forged[0] = 0x01 // R = (0, 1), the identity; S = 0
	for i, y := range smallOrderY {
		for _, sign := range []byte{0, 0x80} {
			key := y
			key[31] |= sign
			message := forgeable(key[:], forged)
			if message == nil {
				t.Fatalf("entry %d (sign %#x): crypto/ed25519 accepted no forgery; is it of small order?", i, sign)
			}
			err := Verify(addressOf(key[:]), message, hex.EncodeToString(forged))
			if !errors.Is(err, ErrWrongSigner) || !strings.Contains(err.Error(), "small order") {
				t.Errorf("entry %d (sign %#x): Verify = %v, want ErrWrongSigner for small order", i, sign, err)
			}
		}
	}
}

// forgeable returns a message over which crypto/ed25519 accepts sig for pub,
// or nil if none of the first 256 tried is. For a key of order n, one message
// in n is.
func forgeable(pub, sig []byte) []byte {
	for i := range 256 {
		message := []byte{byte(i)}
		if ed25519.Verify(pub, message, sig) {
			return message
		}
	}
	return nil
}

// flip returns a copy of b with one bit inverted.
func flip(b []byte, bit int) []byte {
	c := append([]byte(nil), b...)
	c[bit/8] ^= 1 << (bit % 8)
	return c
}

// mustParse parses an account ID that the test knows to be valid.
func mustParse(t testing.TB, s string) Address {
	t.Helper()
	a, err := ParseAddress(s)
	if err != nil {
		t.Fatalf("ParseAddress(%s): %v", s, err)
	}
	return a
}

// TestZeroAddress checks that the zero Address is the all-zero key's strkey
// and that Verify accepts no signature for it, not even the forgery that
// crypto/ed25519 accepts.
func TestZeroAddress(t *testing.T) {
	const zero = "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
	if a := mustParse(t, zero); a != (Address{}) {
		t.Fatalf("ParseAddress(%s) = %v, want the zero Address", zero, a)
	}
	forged := make([]byte, ed25519.SignatureSize)
	forged[0] = 0x01
	message := forgeable(make([]byte, ed25519.PublicKeySize), forged)
	if message == nil {
		t.Fatal("crypto/ed25519 accepted no forgery for the zero key")
	}
	if err := Verify(Address{}, message, hex.EncodeToString(forged)); !errors.Is(err, ErrWrongSigner) {
		t.Errorf("Verify = %v, want ErrWrongSigner", err)
	}
}
