package stellar

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// versionSeed is the strkey version byte of an ed25519 secret seed, "S…"
// (SEP-23 STRKEY_PRIVKEY, 18 << 3); the tests read published seeds with it.
const versionSeed byte = 18 << 3

// sep23Key is the key of the SEP-23 test vectors (stellar-protocol,
// ecosystem/sep-0023.md, "Valid test cases" 1).
const sep23Key = "3f0c34bf93ad0d9971d04ccc90f705511c838aad9734a4a2fb0d7a03fc7fe89a"

func TestParseAddress(t *testing.T) {
	tests := []struct {
		name, address, key string
	}{
		// stellar-protocol ecosystem/sep-0023.md, "Valid test cases" 1.
		{"SEP-23 valid account", "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ", sep23Key},
		// stellar/go strkey/decode_test.go, TestDecode "AccountID".
		{"stellar/go AccountID", "GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5",
			"363eaa3867841fbad0f4ed88c779e4fe66e56a2470dc98c0ec9c073d05c7b103"},
		// StellarCN/py-stellar-base tests/test_keypair.py, test_create_from_public_key.
		{"py-stellar-base public key", "GAXDYNIBA5E4DXR5TJN522RRYESFQ5UNUXHIPTFGVLLD5O5K552DF5ZH",
			"2e3c35010749c1de3d9a5bdd6a31c12458768da5ce87cca6aad63ebbaaef7432"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAddress(tt.address)
			if err != nil {
				t.Fatalf("ParseAddress: %v", err)
			}
			if got := hex.EncodeToString(a.PublicKey()); got != tt.key {
				t.Errorf("PublicKey = %s, want %s", got, tt.key)
			}
			if got := a.String(); got != tt.address {
				t.Errorf("String = %s, want %s", got, tt.address)
			}
		})
	}
}

// refusal is a string ParseAddress must refuse, and a word of its reason.
type refusal struct {
	name, input, reason string
}

// TestParseAddressRefusesPublished checks the invalid strkeys others publish.
func TestParseAddressRefusesPublished(t *testing.T) {
	checkRefusals(t, []refusal{
		// stellar-protocol ecosystem/sep-0023.md, "Invalid test cases", in order.
		{"SEP-23 invalid 1: 5-byte key", "GAAAAAAAACGC6", "56 characters"},
		{"SEP-23 invalid 2: unused bit set", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUR", "muxed"},
		{"SEP-23 invalid 3: length 1 mod 8", "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZA", "56 characters"},
		{"SEP-23 invalid 4: 36 bytes", "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUACUSI", "56 characters"},
		{"SEP-23 invalid 5: algorithm 7", "G47QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVP2I", "unknown key type"},
		{"SEP-23 invalid 6: length 6 mod 8", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVAAAAAAAAAAAAAJLKA", "muxed"},
		{"SEP-23 invalid 7: 44 bytes", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVAAAAAAAAAAAAAAV75I", "muxed"},
		{"SEP-23 invalid 8: algorithm 7", "M47QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ", "muxed"},
		{"SEP-23 invalid 9: padding", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUK===", "muxed"},
		{"SEP-23 invalid 10: checksum", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUO", "muxed"},
		{"SEP-23 invalid 11: payload length short", "PA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAQACAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DUPB6IAAAAAAAAPM", "signer key"},
		{"SEP-23 invalid 12: payload length long", "PA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAOQCAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4Z2PQ", "signer key"},
		{"SEP-23 invalid 13: no zero padding", "PA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAOQCAQDAQCQMBYIBEFAWDANBYHRAEISCMKBKFQXDAMRUGY4DXFH6", "signer key"},
		{"SEP-23 invalid 14: unused bits", "BAAD6DBUX6J22DMZOHIEZTEQ64CVCHEDRKWZONFEUL5Q26QD7R76RGR4TV", "claimable balance"},
		{"SEP-23 invalid 15: balance type", "BAAT6DBUX6J22DMZOHIEZTEQ64CVCHEDRKWZONFEUL5Q26QD7R76RGXACA", "claimable balance"},
		// stellar-protocol ecosystem/sep-0023.md, "Valid test cases" 2, 6 and
		// 7: valid strkeys, but not account IDs.
		{"SEP-23 muxed account", "MA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUAAAAAAAAAAAACJUQ", "muxed"},
		{"SEP-23 contract", "CA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUWDA", "contract"},
		{"SEP-23 liquidity pool", "LA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJUPJN", "liquidity pool"},
		// stellar/go strkey/decode_test.go, TestDecode.
		{"stellar/go seed", "SBU2RRGLXH3E5CQHTD3ODLDF2BWDCYUSSBLLZ5GNW7JXHDIYKXZWHOKR", "secret seed"},
		{"stellar/go pre-auth tx", "TBU2RRGLXH3E5CQHTD3ODLDF2BWDCYUSSBLLZ5GNW7JXHDIYKXZWHXL7", "signer key"},
		{"stellar/go hash-x", "XBU2RRGLXH3E5CQHTD3ODLDF2BWDCYUSSBLLZ5GNW7JXHDIYKXZWGTOG", "signer key"},
		{"stellar/go corrupted checksum", "GA3D5KRYM6CB7OWQ6TWYRR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHE55", "checksum"},
		{"stellar/go corrupted payload", "GA3D5KRYM6CB7OWOOOORR3Z4T7GNZLKERYNZGGA5SOAOPIFY6YQHES5", "56 characters"},
		// stellar/go keypair/main_test.go, "a corrupted address".
		{"stellar/go corrupted address", "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7O32H", "checksum"},
		// StellarCN/py-stellar-base tests/test_keypair.py,
		// test_create_from_invalid_public_key_raise.
		{"py-stellar-base bad checksum", "GAXDYNIBA5E4DXR5TJN522RRYESFQ5UNUXHIPTFGVLLD5O5K552DFBAD", "checksum"},
		{"py-stellar-base truncated", "GAXDYNIBA5E4DXR5TJN522RRYESFQ5UNUXHIPTFGVLLD5O5K552DF5Z", "56 characters"},
	})
}

// TestParseAddressRefuses checks our own cases: case, alphabet, padding.
func TestParseAddressRefuses(t *testing.T) {
	const valid = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
	checkRefusals(t, []refusal{
		{"empty", "", "empty"},
		{"lower case", strings.ToLower(valid), "upper case"},
		{"one lower-case letter", valid[:10] + "a" + valid[11:], "upper case"},
		{"EVM address", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "start with G"},
		{"padded", valid + "====", "56 characters"},
		{"newline inside", valid[:20] + "\n" + valid[21:], "A-Z and 2-7"},
		{"digit 0", valid[:20] + "0" + valid[21:], "A-Z and 2-7"},
		{"multi-byte character", valid[:54] + "é", "A-Z and 2-7"},
	})
}

// checkRefusals fails unless ParseAddress refuses each input for its reason.
func checkRefusals(t *testing.T, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAddress(tt.input)
			if !errors.Is(err, ErrMalformedAddress) {
				t.Fatalf("ParseAddress = %v, %v; want ErrMalformedAddress", a, err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
			if a != (Address{}) {
				t.Errorf("ParseAddress returned %v with its error", a)
			}
		})
	}
}

// TestSeedAddress derives the account ID of published secret seeds with
// crypto/ed25519 and encodes it, so that encoding is checked against others'.
func TestSeedAddress(t *testing.T) {
	tests := []struct {
		name, seed, address string
	}{
		// stellar-protocol ecosystem/sep-0053.md, "Test cases".
		{"SEP-53", "SAKICEVQLYWGSOJS4WW7HZJWAHZVEEBS527LHK5V4MLJALYKICQCJXMW",
			"GBXFXNDLV4LSWA4VB7YIL5GBD7BVNR22SGBTDKMO2SBZZHDXSKZYCP7L"},
		// stellar/go keypair/main_test.go, the address and seed variables.
		{"stellar/go keypair", "SDHOAMBNLGCE2MV5ZKIVZAQD3VCLGP53P3OBSBI6UN5L5XZI5TKHFQL4",
			"GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"},
		// StellarCN/py-stellar-base tests/test_keypair.py, test_create_from_secret.
		{"py-stellar-base", "SD7X7LEHBNMUIKQGKPARG5TDJNBHKC346OUARHGZL5ITC6IJPXHILY36",
			"GDFQVQCYYB7GKCGSCUSIQYXTPLV5YJ3XWDMWGQMDNM4EAXAL7LITIBQ7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := seedAddress(t, tt.seed)
			if got := a.String(); got != tt.address {
				t.Errorf("address of the seed = %s, want %s", got, tt.address)
			}
			if _, err := ParseAddress(tt.address); err != nil {
				t.Errorf("ParseAddress(%s): %v", tt.address, err)
			}
		})
	}
}

func TestCAIP10(t *testing.T) {
	// ChainAgnostic/namespaces stellar/caip10.md, "Test Cases": pubnet
	// classic address without memo.
	const want = "stellar:pubnet:GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
	a, err := ParseAddress(strings.TrimPrefix(want, "stellar:pubnet:"))
	if err != nil {
		t.Fatal(err)
	}
	if got := CAIP10(a); got != want {
		t.Errorf("CAIP10 = %s, want %s", got, want)
	}
}

func TestCRC16(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want uint16
	}{
		// stellar/go strkey/internal/crc16/main_test.go, TestChecksum: the
		// bytes e6 48, little-endian.
		{"stellar/go", []byte{0x12, 0x34, 0x56, 0x78, 0x90}, 0x48e6},
		// CRC RevEng catalogue, CRC-16/XMODEM: check = 0x31c3.
		{"XMODEM check", []byte("123456789"), 0x31c3},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		if got := crc16(tt.data); got != tt.want {
			t.Errorf("%s: crc16 = %#04x, want %#04x", tt.name, got, tt.want)
		}
	}
}

// TestPublicKeyIsACopy checks that changing the returned key leaves the
// Address alone.
func TestPublicKeyIsACopy(t *testing.T) {
	a, err := ParseAddress("GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ")
	if err != nil {
		t.Fatal(err)
	}
	a.PublicKey()[0] ^= 0xff
	if got := hex.EncodeToString(a.PublicKey()); got != sep23Key {
		t.Errorf("PublicKey = %s after changing a copy, want %s", got, sep23Key)
	}
}

// seedKey returns the private key of a published "S…" secret seed.
func seedKey(t testing.TB, seed string) ed25519.PrivateKey {
	t.Helper()
	raw, err := decodeStrkey(versionSeed, seed)
	if err != nil {
		t.Fatalf("seed %s: %v", seed, err)
	}
	return ed25519.NewKeyFromSeed(raw)
}

// seedAddress returns the account ID of a published "S…" secret seed.
func seedAddress(t testing.TB, seed string) Address {
	t.Helper()
	return addressOf(seedKey(t, seed).Public().(ed25519.PublicKey))
}

// addressOf returns the Address of an ed25519 public key.
func addressOf(pub ed25519.PublicKey) Address {
	var a Address
	copy(a.key[:], pub)
	return a
}
