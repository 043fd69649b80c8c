package stellar

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// sep53Prefix is the fixed prefix of a SEP-53 signed message (SEP-53
// "Prefix and Encodings").
const sep53Prefix = "Stellar Signed Message:\n"

// Verify checks that signature is an ed25519 signature by addr's key over
// message, which must be the exact bytes the account was asked to sign. The
// signature is 64 bytes in hex, with or without "0x", made either over the
// message itself (as stellar_sdk's Keypair.sign(message.encode()) makes it)
// or over SHA-256("Stellar Signed Message:\n" + message) (SEP-53 "Signing
// Procedure", as wallets make it).
//
// A signature that cannot be read wraps [ErrMalformedSignature]; one that
// addr's key did not make wraps [ErrWrongSigner], and so does every signature
// for a key of small order, which anyone can forge and no one holds.
func Verify(addr Address, message []byte, signature string) error {
	sig, err := parseSignature(signature)
	if err != nil {
		return err
	}
	if hasSmallOrder(addr.key) {
		return refuse(ErrWrongSigner, "the account's key has small order, so no signature can prove control of it")
	}
	pub := addr.PublicKey()
	if ed25519.Verify(pub, message, sig) || ed25519.Verify(pub, sep53Hash(message), sig) {
		return nil
	}
	return ErrWrongSigner
}

// parseSignature decodes a 64-byte hex signature, with or without "0x".
func parseSignature(s string) ([]byte, error) {
	digits := s
	if len(digits) >= 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X') {
		digits = digits[2:]
	}
	if len(digits) != 2*ed25519.SignatureSize {
		return nil, refuse(ErrMalformedSignature, fmt.Sprintf("must be %d hex digits (%d bytes), not %d",
			2*ed25519.SignatureSize, ed25519.SignatureSize, len(digits)))
	}
	sig, err := hex.DecodeString(digits)
	if err != nil {
		return nil, refuse(ErrMalformedSignature, "is not hex")
	}
	return sig, nil
}

// sep53Hash returns what a SEP-53 signature signs: the SHA-256 of the prefix
// and the message bytes (SEP-53 "Message Format" and "Hashing Algorithm").
func sep53Hash(message []byte) []byte {
	h := sha256.New()
	h.Write([]byte(sep53Prefix))
	h.Write(message)
	return h.Sum(nil)
}

// hasSmallOrder reports whether key encodes a point of order 1, 2, 4 or 8,
// whatever its sign bit and including the non-canonical y = p and p + 1. For
// such a key anyone can make a signature that crypto/ed25519 accepts, though
// no one holds its private key; libsodium, which Stellar's own software uses,
// refuses them with this list (ge25519_has_small_order, ed25519_ref10.c).
func hasSmallOrder(key [ed25519.PublicKeySize]byte) bool {
	y := key
	y[31] &= 0x7f // the sign of x
	for _, bad := range smallOrderY {
		if y == bad {
			return true
		}
	}
	return false
}

// smallOrderY are the little-endian y-coordinates of the points of small
// order, as libsodium lists them: 0 (order 4), 1 (order 1), two of order 8,
// p - 1 (order 2), p (= 0) and p + 1 (= 1), where p = 2^255 - 19.
var smallOrderY = [...][ed25519.PublicKeySize]byte{
	{},
	{0x01},
	{0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
		0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
	{0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
		0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
	nearP(0xec), // p - 1
	nearP(0xed), // p
	nearP(0xee), // p + 1
}

// nearP returns the little-endian encoding of a number just around p =
// 2^255 - 19, which is ec ff … ff 7f: low is its first byte.
func nearP(low byte) [ed25519.PublicKeySize]byte {
	y := [ed25519.PublicKeySize]byte{low}
	for i := 1; i < len(y)-1; i++ {
		y[i] = 0xff
	}
	y[len(y)-1] = 0x7f
	return y
}
