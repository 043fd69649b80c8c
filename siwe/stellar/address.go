package stellar

import (
	"crypto/ed25519"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
)

// versionAccountID is the strkey version byte of an account ID: SEP-23
// STRKEY_PUBKEY (6 << 3) | STRKEY_ALG_ED25519 (0); it encodes as "G".
const versionAccountID byte = 6 << 3

// SEP-23 "Specification" steps 1, 2 and 5: a version byte, a 32-byte key and
// a 2-byte checksum make 35 bytes, which base-32 writes in 56 symbols.
const (
	strkeyBytes  = 1 + ed25519.PublicKeySize + 2
	strkeyLength = strkeyBytes * 8 / 5
)

// strkeyEncoding is RFC 4648 base-32 without padding (SEP-23 step 6).
var strkeyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// Address is a Stellar account ID: the ed25519 public key of an account.
// Addresses are comparable with ==. The zero Address is the all-zero key
// ("GAAA…AWHF"), a valid strkey that no one can sign for.
type Address struct {
	key [ed25519.PublicKeySize]byte
}

// ParseAddress reads a Stellar account ID, a SEP-23 strkey such as
// "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ". It refuses, with
// an error wrapping [ErrMalformedAddress], every other string: other strkey
// kinds (secret seeds "S…", muxed accounts "M…", contracts "C…", …), lower
// case, a wrong length or version byte, and a checksum that does not match.
func ParseAddress(s string) (Address, error) {
	if err := checkKind(s); err != nil {
		return Address{}, err
	}
	key, err := decodeStrkey(versionAccountID, s)
	if err != nil {
		return Address{}, err
	}
	var a Address
	copy(a.key[:], key)
	return a, nil
}

// String returns the account ID as its canonical strkey, "G…".
func (a Address) String() string {
	return encodeStrkey(versionAccountID, a.key[:])
}

// PublicKey returns the account's ed25519 public key, a copy the caller owns.
func (a Address) PublicKey() ed25519.PublicKey {
	return append(ed25519.PublicKey(nil), a.key[:]...)
}

// CAIP10 returns the CAIP-10 account ID of addr on Stellar's public network,
// "stellar:pubnet:G…" (ChainAgnostic namespaces, stellar/caip10.md), which is
// the subject Signet gives a Stellar account.
func CAIP10(addr Address) string {
	return "stellar:pubnet:" + addr.String()
}

// checkKind refuses an empty string and names the kind of a strkey that is
// not an account ID by its first character (SEP-23, table of key types), so
// that the error says what was sent.
func checkKind(s string) error {
	if s == "" {
		return refuse(ErrMalformedAddress, "empty")
	}
	var kind string
	switch s[0] {
	case 'G':
		return nil
	case 'g':
		return refuse(ErrMalformedAddress, "must be upper case")
	case 'S':
		return refuse(ErrMalformedAddress, "this is a secret seed (S…), which must never be sent; send the account ID (G…)")
	case 'M':
		return refuse(ErrMalformedAddress, "a muxed account (M…) is not accepted; send its account ID (G…)")
	case 'C':
		kind = "a contract"
	case 'T', 'X', 'P':
		kind = "a signer key"
	case 'L':
		kind = "a liquidity pool"
	case 'B':
		kind = "a claimable balance"
	default:
		return refuse(ErrMalformedAddress, "must start with G")
	}
	return refuse(ErrMalformedAddress, "this is "+kind+", not an account ID (G…)")
}

// decodeStrkey returns the 32-byte key of a strkey whose version byte must be
// version: SEP-23 "Specification" read backwards. Any 56 symbols of the
// alphabet carry exactly 280 bits, so no bits are left unused and SEP-23's
// rule for them (and for lengths of 1, 3 or 6 mod 8) is met by the length.
func decodeStrkey(version byte, s string) ([]byte, error) {
	if len(s) != strkeyLength {
		return nil, refuse(ErrMalformedAddress, fmt.Sprintf("must be %d characters, not %d", strkeyLength, len(s)))
	}
	if strings.ContainsFunc(s, func(r rune) bool { return !('A' <= r && r <= 'Z' || '2' <= r && r <= '7') }) {
		return nil, refuse(ErrMalformedAddress, "may hold only A-Z and 2-7 (upper case)")
	}
	raw, err := strkeyEncoding.DecodeString(s)
	if err != nil || len(raw) != strkeyBytes {
		return nil, refuse(ErrMalformedAddress, "is not base-32")
	}
	if raw[0] != version {
		return nil, refuse(ErrMalformedAddress, "has an unknown key type or algorithm")
	}
	body, sum := raw[:strkeyBytes-2], raw[strkeyBytes-2:]
	if crc16(body) != binary.LittleEndian.Uint16(sum) {
		return nil, refuse(ErrMalformedAddress, "checksum does not match (a mistyped character?)")
	}
	return raw[1 : 1+ed25519.PublicKeySize], nil
}

// encodeStrkey returns the strkey of a 32-byte key with the given version
// byte (SEP-23 "Specification" steps 1, 2, 5 and 6).
func encodeStrkey(version byte, key []byte) string {
	raw := make([]byte, 0, strkeyBytes)
	raw = append(raw, version)
	raw = append(raw, key...)
	raw = binary.LittleEndian.AppendUint16(raw, crc16(raw))
	return strkeyEncoding.EncodeToString(raw)
}

// crc16 returns the checksum SEP-23 step 5 appends (little-endian) to a
// strkey: CRC-16/XMODEM, polynomial x^16 + x^12 + x^5 + 1 (0x1021), initial
// value 0, bits not reflected.
func crc16(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
