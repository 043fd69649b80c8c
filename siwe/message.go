package siwe

import (
	"errors"
	"fmt"
	"net/url"
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
}

// ownFields returns the fields of c's own text without parsing it, when text
// is that text, byte for byte, and c was issued under this Verifier's domain
// and URI: Issue wrote the text from c's stored values, so they are its
// fields. Otherwise ok is false and the text must be parsed.
func (v *Verifier) ownFields(text string, c *Challenge) (m *parsedMessage, ok bool) {
	if c == nil || text != c.Message {
		return nil, false
	}
	lines := strings.SplitN(text, "\n", 7)
	if len(lines) < 6 || lines[0] != v.cfg.Domain+" wants you to sign in with your Ethereum account:" {
		return nil, false
	}
	uri := lines[4]
	if lines[3] != "" {
		uri = lines[5]
	}
	if uri != "URI: "+v.cfg.URI {
		return nil, false
	}
	expires := c.ExpiresAt
	return &parsedMessage{
		Domain:         v.cfg.Domain,
		Address:        c.Address,
		URI:            v.cfg.URI,
		Version:        "1",
		ChainID:        c.ChainID,
		Nonce:          c.Nonce,
		IssuedAt:       c.IssuedAt,
		ExpirationTime: &expires,
	}, true
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
