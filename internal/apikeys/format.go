package apikeys

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/signet-id/signet/clients"
)

// TokenType is the subject_token_type of an API key at the token endpoint
// (RFC 8693 §3 leaves token type URIs to the server).
const TokenType = "urn:signet:params:oauth:token-type:api_key"

// DefaultPrefix begins the keys of a client whose profile names no other.
const DefaultPrefix = "sgk_"

// prefixes are the key prefixes of the wire profiles whose services name
// their own (SPEC "API keys": dob_ak_ for dob).
var prefixes = map[string]string{"dob": "dob_ak_"}

// Limits. A label is a name for a person to tell keys apart by, not a place
// for data. A wallet keeps at most MaxActive active keys per client: enough
// for one key per machine, job or environment, while a stolen access token
// cannot mint long-lived credentials without bound, and a listing stays one
// short page; keys are replaced by rotation, not piled up.
const (
	MaxLabel  = 100
	MaxActive = 100
	keyBytes  = 32
	idBytes   = 10
)

// Prefix is the prefix of the client's keys.
func Prefix(c *clients.Client) string {
	if p, ok := prefixes[c.Profile]; ok {
		return p
	}
	return DefaultPrefix
}

// Shaped reports whether s has the form of an API key of any client: a
// known prefix and 64 lowercase hex digits. Signet's other credentials
// never do (a JWT has dots; a refresh token is "srt_" and base64url).
func Shaped(s string) bool {
	rest, ok := strings.CutPrefix(s, DefaultPrefix)
	if !ok {
		for _, p := range prefixes {
			if rest, ok = strings.CutPrefix(s, p); ok {
				break
			}
		}
	}
	return ok && len(rest) == 2*keyBytes && strings.Trim(rest, "0123456789abcdef") == ""
}

// hash is the stored form of a key: its hex SHA-256. A fast hash suits a
// 256-bit random value, which cannot be guessed.
func hash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// validID reports whether id has the form of a key ID, "key_" and 20 hex
// digits, so that nothing else reaches the database.
func validID(id string) bool {
	rest, ok := strings.CutPrefix(id, "key_")
	return ok && len(rest) == 2*idBytes && strings.Trim(rest, "0123456789abcdef") == ""
}

// cleanLabel trims a label and reports whether it may be kept.
func cleanLabel(label string) (string, bool) {
	label = strings.TrimSpace(label)
	if !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) || utf8.RuneCountInString(label) > MaxLabel {
		return "", false
	}
	return label, true
}
