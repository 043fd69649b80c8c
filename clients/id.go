package clients

import (
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/random"
)

// idAlphabet is the alphabet of generated client IDs.
const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// idLength is the length of a generated client ID (about 103 bits).
const idLength = 20

// NormalizeID returns the EIP-55 checksum form of a 0x-address-shaped client
// ID, in any letter case, and every other ID unchanged.
func NormalizeID(id string) string {
	if !isAddressShaped(id) {
		return id
	}
	return common.HexToAddress(id).Hex()
}

// isAddressShaped reports whether s is "0x" (or "0X") followed by 40 hex digits.
func isAddressShaped(s string) bool {
	return len(s) == 2+2*common.AddressLength && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && common.IsHexAddress(s)
}

// addressChecksumBad reports whether an address-shaped s mixes upper and lower
// case letters without matching its EIP-55 checksum; single-case addresses
// carry no checksum (EIP-55).
func addressChecksumBad(s string) bool {
	digits := s[2:]
	if digits == strings.ToLower(digits) || digits == strings.ToUpper(digits) {
		return false
	}
	return "0x"+digits != common.HexToAddress(s).Hex()
}

// randomID draws a client ID of idLength characters from idAlphabet.
func randomID(r io.Reader) (string, error) {
	id, err := random.String(r, idLength, idAlphabet)
	if err != nil {
		return "", fmt.Errorf("clients: generate client ID: %w", err)
	}
	return id, nil
}
