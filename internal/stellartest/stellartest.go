// Package stellartest gives tests a Stellar wallet made with Go's
// crypto/ed25519: its account ID, its secret seed and muxed forms (which
// Signet must refuse), and its signatures over a message's bytes, raw (as
// Python's stellar_sdk Keypair.sign(message.encode()).hex() makes them) or
// SEP-53. It writes strkeys itself (SEP-23), so that tests do not check
// package stellar's encoding with that encoding.
package stellartest

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// SEP-23 version bytes: account ID ("G"), secret seed ("S"), muxed account ("M").
const (
	versionAccount byte = 6 << 3
	versionSeed    byte = 18 << 3
	versionMuxed   byte = 12 << 3
)

// Key is a Stellar account's ed25519 key.
type Key struct {
	priv ed25519.PrivateKey
}

// New returns a fresh random key.
func New(t testing.TB) *Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Key{priv: priv}
}

// Address is the account ID, "G…".
func (k *Key) Address() string { return strkey(versionAccount, k.priv.Public().(ed25519.PublicKey)) }

// Seed is the secret seed, "S…": what an agent must never send.
func (k *Key) Seed() string { return strkey(versionSeed, k.priv.Seed()) }

// Muxed is the account's muxed address with id, "M…" (SEP-23: the key,
// then the ID in 8 big-endian bytes).
func (k *Key) Muxed(id uint64) string {
	return strkey(versionMuxed, binary.BigEndian.AppendUint64(append([]byte(nil), k.priv.Public().(ed25519.PublicKey)...), id))
}

// Sign is a raw ed25519 signature over message's bytes in lowercase hex
// without 0x: stellar_sdk's Keypair.sign(message.encode()).hex().
func (k *Key) Sign(message string) string {
	return hex.EncodeToString(ed25519.Sign(k.priv, []byte(message)))
}

// SignSEP53 is a SEP-53 signature over message in hex: ed25519 over
// SHA-256("Stellar Signed Message:\n" + message), as wallets make it.
func (k *Key) SignSEP53(message string) string {
	sum := sha256.Sum256([]byte("Stellar Signed Message:\n" + message))
	return hex.EncodeToString(ed25519.Sign(k.priv, sum[:]))
}

// strkey writes a SEP-23 strkey: version byte, payload, CRC-16/XMODEM of
// both (little-endian), in RFC 4648 base-32 without padding.
func strkey(version byte, payload []byte) string {
	raw := append([]byte{version}, payload...)
	var crc uint16
	for _, b := range raw {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	raw = binary.LittleEndian.AppendUint16(raw, crc)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
}
