package siwe

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/ethereum/go-ethereum/common"
)

// SIWA, Sign In With Agent: the EIP-4361 message of an AI agent registered
// in an ERC-8004 identity registry. Its grammar is the SIWA spec's "Message
// Format (ABNF)", which @buildersgarden/siwa's buildSIWAMessage writes:
// EIP-4361's, with "… wants you to sign in with your Agent account:" in the
// header and the lines Agent ID and Agent Registry after Version. A SIWA
// message is verified by every EIP-4361 rule (checkFields, checkSignature);
// whether the signer controls the agent is for the caller to decide, with
// Result.Agent.

// agentHeader ends the first line of a SIWA message, after the domain.
const agentHeader = " wants you to sign in with your Agent account:"

// Registry is an ERC-8004 identity registry, named by its CAIP-10 account
// ID, "eip155:<chainId>:<address>".
type Registry struct {
	// ChainID is the EIP-155 chain the registry contract lives on.
	ChainID int64
	// Address is the registry contract.
	Address common.Address
}

// String returns the registry's CAIP-10 name with an EIP-55 address.
func (r Registry) String() string {
	return "eip155:" + strconv.FormatInt(r.ChainID, 10) + ":" + r.Address.Hex()
}

// ParseRegistry reads "eip155:<chainId>:<address>" (SIWA spec
// agent-registry; CAIP-10 with CAIP-2's eip155 namespace). The chain ID is a
// positive decimal; the address is 0x and 40 hex digits, in EIP-55 case or in
// one case throughout, so that a mistyped checksum is caught.
func ParseRegistry(s string) (Registry, error) {
	rest, ok := strings.CutPrefix(s, "eip155:")
	if !ok {
		return Registry{}, errors.New("an agent registry is eip155:<chainId>:<address>")
	}
	chain, addr, ok := strings.Cut(rest, ":")
	if !ok {
		return Registry{}, errors.New("an agent registry is eip155:<chainId>:<address>")
	}
	id, err := parseDecimal(chain)
	if err != nil || id == 0 {
		return Registry{}, errors.New("the agent registry's chain ID is not a positive decimal")
	}
	if !addressCaseOK(addr) {
		return Registry{}, errors.New("the agent registry's address is not 0x and 40 hex digits with a valid EIP-55 checksum")
	}
	return Registry{ChainID: id, Address: common.HexToAddress(addr)}, nil
}

// addressCaseOK reports whether s is 0x and 40 hex digits, either in EIP-55
// mixed case or in one case throughout.
func addressCaseOK(s string) bool {
	if len(s) != 42 || !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return false
	}
	digits := s[2:]
	return digits == strings.ToLower(digits) || digits == strings.ToUpper(digits) || common.HexToAddress(s).Hex() == s
}

// Agent is the ERC-8004 agent a SIWA message signs in as: the ERC-721
// token ID in its identity registry.
type Agent struct {
	// ID is the agent's token ID (SIWA agent-id). IDs above 2^63-1 are
	// refused: they cannot be stored or carried as a JSON number exactly.
	ID int64
	// Registry is the identity registry the agent is registered in.
	Registry Registry
}

// isSIWA reports whether text's first line is a SIWA header.
func isSIWA(text string) bool {
	first, _, _ := strings.Cut(text, "\n")
	return strings.HasSuffix(first, agentHeader)
}

// lineReader reads a message's lines in their order.
type lineReader struct {
	lines []string
	next  int
}

// field reads the next line when it is "<name>: <value>".
func (r *lineReader) field(name string) (string, bool) {
	if r.next >= len(r.lines) {
		return "", false
	}
	v, ok := strings.CutPrefix(r.lines[r.next], name+": ")
	if ok {
		r.next++
	}
	return v, ok
}

// parseSIWA parses a SIWA message strictly: the lines of the SIWA ABNF, in
// its order, separated by LF alone, with nothing after the last field.
func parseSIWA(text string) (*parsedMessage, error) {
	r := &lineReader{lines: strings.Split(text, "\n")}
	m, err := r.head()
	if err != nil {
		return nil, err
	}
	if err := r.fields(m); err != nil {
		return nil, err
	}
	if err := r.optional(m); err != nil {
		return nil, err
	}
	if r.next != len(r.lines) {
		return nil, fmt.Errorf("line %d is not a SIWA field in its place", r.next+1)
	}
	return m, nil
}

// head reads the domain line, the address, the statement if any and the
// blank lines around it (SIWA ABNF: domain … LF address LF LF [statement
// LF] LF).
func (r *lineReader) head() (*parsedMessage, error) {
	if len(r.lines) < 5 {
		return nil, errors.New("too few lines")
	}
	domain, ok := strings.CutSuffix(r.lines[0], agentHeader)
	if !ok || !validAuthority(domain) {
		return nil, errors.New(`the first line is not "<host[:port]> wants you to sign in with your Agent account:"`)
	}
	// SIWA ABNF address: "0x" 40HEXDIG, EIP-55 checksummed.
	address := r.lines[1]
	if !common.IsHexAddress(address) || !strings.HasPrefix(address, "0x") || common.HexToAddress(address).Hex() != address {
		return nil, errors.New("the address is not EIP-55 checksummed")
	}
	if r.lines[2] != "" {
		return nil, errors.New("no blank line after the address")
	}
	r.next = 4
	if statement := r.lines[3]; statement != "" {
		if !validStatement(statement) {
			return nil, errors.New("the statement has characters the SIWA ABNF does not allow")
		}
		if r.lines[4] != "" {
			return nil, errors.New("no blank line after the statement")
		}
		r.next = 5
	}
	return &parsedMessage{Domain: domain, Address: common.HexToAddress(address)}, nil
}

// fields reads the required fields, URI to Issued At, in the ABNF's order.
func (r *lineReader) fields(m *parsedMessage) error {
	var ok bool
	if m.URI, ok = r.field("URI"); !ok || !validURI(m.URI) {
		return errors.New("no valid URI line")
	}
	if m.Version, ok = r.field("Version"); !ok || !isDigits(m.Version) {
		return errors.New("no valid Version line")
	}
	agent, err := r.agent()
	if err != nil {
		return err
	}
	m.Agent = agent
	chain, ok := r.field("Chain ID")
	if m.ChainID, err = parseDecimal(chain); !ok || err != nil || m.ChainID == 0 {
		return errors.New("no valid Chain ID line")
	}
	// SIWA ABNF nonce: 8*ALPHANUM, as EIP-4361's.
	if m.Nonce, ok = r.field("Nonce"); !ok || len(m.Nonce) < 8 || !isAlphanumeric(m.Nonce) {
		return errors.New("no valid Nonce line")
	}
	issued, ok := r.field("Issued At")
	if !ok {
		return errors.New("no Issued At line")
	}
	if m.IssuedAt, err = parseTime(issued); err != nil {
		return fmt.Errorf("issued at: %w", err)
	}
	return nil
}

// agent reads the Agent ID and Agent Registry lines.
func (r *lineReader) agent() (*Agent, error) {
	id, ok := r.field("Agent ID")
	if !ok {
		return nil, errors.New("no Agent ID line after Version")
	}
	n, err := parseDecimal(id)
	if err != nil {
		return nil, errors.New("the Agent ID is not a decimal token ID below 2^63")
	}
	registry, ok := r.field("Agent Registry")
	if !ok {
		return nil, errors.New("no Agent Registry line after Agent ID")
	}
	reg, err := ParseRegistry(registry)
	if err != nil {
		return nil, err
	}
	return &Agent{ID: n, Registry: reg}, nil
}

// optional reads Expiration Time, Not Before and Request ID, each if
// present, in that order.
func (r *lineReader) optional(m *parsedMessage) error {
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{"Expiration Time", &m.ExpirationTime}, {"Not Before", &m.NotBefore}} {
		if s, ok := r.field(f.name); ok {
			t, err := parseTime(s)
			if err != nil {
				return fmt.Errorf("%s: %w", strings.ToLower(f.name), err)
			}
			*f.dst = &t
		}
	}
	// SIWA ABNF request-id: *VCHAR.
	if s, ok := r.field("Request ID"); ok && strings.ContainsFunc(s, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
		return errors.New("the Request ID has characters other than VCHAR")
	}
	return nil
}

// parseDecimal reads 1*DIGIT as a non-negative int64.
func parseDecimal(s string) (int64, error) {
	if !isDigits(s) {
		return 0, errors.New("not a decimal")
	}
	return strconv.ParseInt(s, 10, 64)
}

// isDigits reports whether s is 1*DIGIT.
func isDigits(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(c rune) bool { return c < '0' || c > '9' })
}

// isAlphanumeric reports whether s has ASCII letters and digits only.
func isAlphanumeric(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool {
		return !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
	})
}

// validStatement reports whether s is a SIWA statement: *( reserved /
// unreserved / " " ) (RFC 3986 §2.2, §2.3).
func validStatement(s string) bool {
	return !strings.ContainsFunc(s, func(c rune) bool {
		return c > unicode.MaxASCII || !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			strings.ContainsRune("-._~:/?#[]@!$&'()*+,;= ", c))
	})
}

// validAuthority reports whether s is a host[:port] (SIWA ABNF domain,
// RFC 3986 authority without user information).
func validAuthority(s string) bool {
	if s == "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return false
	}
	u, err := url.Parse("https://" + s)
	return err == nil && u.Host == s && u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == ""
}

// validURI reports whether s is an absolute RFC 3986 URI, without spaces or
// control characters.
func validURI(s string) bool {
	if strings.ContainsFunc(s, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}
