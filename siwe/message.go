package siwe

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	siwego "github.com/spruceid/siwe-go"
)

// parsedMessage holds the fields of a parsed EIP-4361 message that verification checks.
type parsedMessage struct {
	Domain         string
	Address        common.Address
	URI            string // the text of the URI line, exactly as written
	Version        string
	ChainID        int64
	Nonce          string
	IssuedAt       time.Time
	ExpirationTime *time.Time
	NotBefore      *time.Time
	// Agent is the agent a SIWA message signs in as; nil for EIP-4361.
	Agent *Agent
}

// ownFields reads the fields of c's own text without siwe-go's parser: when
// text is c's text, byte for byte, in the exact layout Issue writes (no Not
// Before, no Request ID), under this Verifier's domain and URI and with c's
// address, chain and nonce, the two times are the only fields left to read.
// Otherwise ok is false, and the text must be parsed in full.
func (v *Verifier) ownFields(text string, c *Challenge) (m *parsedMessage, ok bool) {
	if c == nil || text != c.Message {
		return nil, false
	}
	lines := strings.Split(text, "\n")
	if len(lines) < 10 || lines[0] != v.cfg.Domain+" wants you to sign in with your Ethereum account:" ||
		lines[1] != c.Address.Hex() || lines[2] != "" {
		return nil, false
	}
	i := 4 // domain, address, blank, blank: no statement
	if lines[3] != "" {
		i = 5 // a statement and its blank line
		if lines[4] != "" {
			return nil, false
		}
	}
	for _, want := range []string{"URI: " + v.cfg.URI, "Version: 1", "Chain ID: " + strconv.FormatInt(c.ChainID, 10), "Nonce: " + c.Nonce} {
		if i >= len(lines) || lines[i] != want {
			return nil, false
		}
		i++
	}
	if i+2 > len(lines) {
		return nil, false
	}
	issued, ok := cutTime(lines[i], "Issued At: ")
	if !ok {
		return nil, false
	}
	expires, ok := cutTime(lines[i+1], "Expiration Time: ")
	if !ok {
		return nil, false
	}
	if rest := lines[i+2:]; len(rest) > 0 {
		if rest[0] != "Resources:" {
			return nil, false
		}
		for _, r := range rest[1:] {
			if !strings.HasPrefix(r, "- ") {
				return nil, false
			}
		}
	}
	return &parsedMessage{
		Domain:         v.cfg.Domain,
		Address:        c.Address,
		URI:            v.cfg.URI,
		Version:        "1",
		ChainID:        c.ChainID,
		Nonce:          c.Nonce,
		IssuedAt:       issued,
		ExpirationTime: &expires,
	}, true
}

// cutTime reads a "Name: <RFC 3339 date-time>" line.
func cutTime(line, prefix string) (time.Time, bool) {
	s, ok := strings.CutPrefix(line, prefix)
	if !ok {
		return time.Time{}, false
	}
	t, err := parseTime(s)
	return t, err == nil
}

// nonceLine returns the value of text's first "Nonce: " line.
func nonceLine(text string) (string, bool) {
	for line := range strings.Lines(text) {
		if nonce, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "Nonce: "); ok {
			return nonce, nonce != ""
		}
	}
	return "", false
}

// parseMessage parses an EIP-4361 message with siwe-go and reads its time
// fields as RFC 3339 date-times.
func parseMessage(text string) (*parsedMessage, error) {
	m, err := parseWithLibrary(text)
	if err != nil {
		return nil, err
	}
	uri, err := rawURI(text, m)
	if err != nil {
		return nil, err
	}
	p := &parsedMessage{
		Domain:  m.GetDomain(),
		Address: m.GetAddress(),
		URI:     uri,
		Version: m.GetVersion(),
		ChainID: int64(m.GetChainID()),
		Nonce:   m.GetNonce(),
	}
	if p.IssuedAt, err = parseTime(m.GetIssuedAt()); err != nil {
		return nil, fmt.Errorf("issued at: %w", err)
	}
	if s := m.GetExpirationTime(); s != nil {
		t, err := parseTime(*s)
		if err != nil {
			return nil, fmt.Errorf("expiration time: %w", err)
		}
		p.ExpirationTime = &t
	}
	if s := m.GetNotBefore(); s != nil {
		t, err := parseTime(*s)
		if err != nil {
			return nil, fmt.Errorf("not before: %w", err)
		}
		p.NotBefore = &t
	}
	return p, nil
}

// parseWithLibrary calls siwe-go's parser, turning a panic inside the library
// into an error: the text comes from the network.
func parseWithLibrary(text string) (m *siwego.Message, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("siwe-go panicked: %v", r)
		}
	}()
	return siwego.ParseMessage(text)
}

// rawURI returns the URI exactly as written in text, which siwe-go only
// exposes re-serialised. EIP-4361 fixes the layout: domain line, address
// line, a blank line, then either a blank line or the statement and a blank
// line, then the URI line.
func rawURI(text string, m *siwego.Message) (string, error) {
	lines := strings.SplitN(text, "\n", 7)
	if len(lines) < 6 {
		return "", errors.New("too few lines")
	}
	line := lines[4]
	if lines[3] != "" {
		line = lines[5]
	}
	raw, ok := strings.CutPrefix(line, "URI: ")
	if !ok {
		return "", errors.New("no URI line where EIP-4361 puts it")
	}
	parsed := m.GetURI()
	if u, err := url.Parse(raw); err != nil || u.String() != parsed.String() {
		return "", errors.New("URI line disagrees with the parsed URI")
	}
	return raw, nil
}

// parseTime parses an EIP-4361 date-time, which is an RFC 3339 date-time.
// (RFC 3339 §5.6 also allows a lowercase "t" and "z", which siwe-go v0.2.1
// rejects before we get here.)
func parseTime(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}
