package clients

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
)

// MaxTTL is the longest token lifetime a client may override to.
const MaxTTL = 14 * 24 * time.Hour

// maxNameLength is the longest client name, in characters.
const maxNameLength = 200

// maxIDLength is the longest fixed client ID that is not an address.
const maxIDLength = 128

// ScopeSIWE asks for the signed proof itself: the siwe_message and
// siwe_signature claims.
const ScopeSIWE = "siwe"

// KnownScopes returns the scopes Signet can grant, in a fresh slice: the
// one list of them, which discovery advertises too.
func KnownScopes() []string {
	return []string{"openid", "profile", "offline_access", ScopeSIWE, ScopeAgent}
}

// Profiles are the wire profiles a client may be served in, each with the
// access-token lifetime the service it replaces documents, which is the
// client's default.
var Profiles = map[string]time.Duration{
	"defimara": 24 * time.Hour,
	"reppo":    24 * time.Hour,
	"dob":      24 * time.Hour,
	"siwa":     time.Hour,
}

// ProfileNames returns the profile names, sorted.
func ProfileNames() []string {
	names := make([]string, 0, len(Profiles))
	for n := range Profiles {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ValidationError lists every problem found in a client registration or update.
type ValidationError struct {
	// Problems are human-readable descriptions, one per broken rule.
	Problems []string
}

// Error joins the problems into one message.
func (e *ValidationError) Error() string {
	return "invalid client: " + strings.Join(e.Problems, "; ")
}

// problems collects validation problems.
type problems []string

func (p *problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// err returns a *ValidationError when any problem was recorded, nil otherwise.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: slices.Clone(p)}
}

// checkSettings validates and normalizes the fields that Add and Update share:
// name, redirect URIs, post-logout redirect URIs, scopes and token lifetimes.
func (r *Registry) checkSettings(p *problems, c *Client) {
	c.Name = strings.TrimSpace(c.Name)
	switch {
	case c.Name == "":
		p.addf("name is required")
	case utf8.RuneCountInString(c.Name) > maxNameLength:
		p.addf("name is longer than %d characters", maxNameLength)
	}

	// RFC 6749 §3.1.2.2: clients must register redirect URIs.
	if len(c.RedirectURIs) == 0 {
		p.addf("at least one redirect URI is required")
	}
	c.RedirectURIs = r.checkURIs(p, "redirect URI", c.RedirectURIs, c.Public)
	c.PostLogoutRedirectURIs = r.checkURIs(p, "post-logout redirect URI", c.PostLogoutRedirectURIs, c.Public)

	c.Scopes = checkScopes(p, c.Scopes)

	if _, ok := Profiles[c.Profile]; c.Profile != "" && !ok {
		p.addf("profile %q is unknown (known: %s)", c.Profile, strings.Join(ProfileNames(), ", "))
	}
	checkTTL(p, "access token TTL", c.AccessTokenTTL)
	checkTTL(p, "ID token TTL", c.IDTokenTTL)
	checkTTL(p, "refresh token TTL", c.RefreshTokenTTL)
}

// checkURIs validates each URI and returns them without duplicates, in order.
func (r *Registry) checkURIs(p *problems, label string, uris []string, public bool) []string {
	out := make([]string, 0, len(uris))
	for _, raw := range uris {
		if reason := r.uriProblem(raw, public); reason != "" {
			p.addf("%s %q %s", label, raw, reason)
			continue
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out
}

// uriProblem says what is wrong with a redirect URI, or "" when nothing is.
func (r *Registry) uriProblem(raw string, public bool) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "is not a valid URL"
	}
	// RFC 6749 §3.1.2: the redirection endpoint URI MUST be an absolute URI
	// and MUST NOT include a fragment component.
	if !u.IsAbs() {
		return "is not an absolute URL"
	}
	if strings.Contains(raw, "#") {
		return "has a fragment (RFC 6749 §3.1.2)"
	}
	if u.User != nil {
		return "has user info"
	}
	if strings.Contains(raw, "*") {
		return "has a wildcard; register each redirect URI exactly (RFC 6749 §3.1.2.3 compares them as strings)"
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return "has no host"
		}
	case "http":
		if u.Hostname() == "" {
			return "has no host"
		}
		// RFC 6749 §3.1.2.1 asks for TLS; RFC 8252 §7.3 allows plain http on
		// the loopback interface, where nothing leaves the machine.
		if !r.insecureRedirects && !IsLoopbackHost(u.Hostname()) {
			return "uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)"
		}
	default:
		// RFC 8252 §7.1: private-use schemes are reverse domain names, which
		// also keeps out javascript:, data: and file: URIs.
		if !strings.Contains(u.Scheme, ".") {
			return fmt.Sprintf("has scheme %q; use https, http on a loopback host, or a reverse-domain private-use scheme (RFC 8252 §7.1)", u.Scheme)
		}
		if !public {
			return "uses a private-use scheme, which only public clients may (RFC 8252 §7.1)"
		}
	}
	return ""
}

// IsLoopbackHost reports whether a URL host name (without brackets or
// port) is one of the loopback names plain http is allowed on: localhost,
// 127.0.0.1 and ::1 (RFC 8252 §7.3 names the two literals).
func IsLoopbackHost(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// MaxAPIScopes bounds how many API scopes of its own a client may carry:
// enough for any API's permissions, and few enough that every token,
// introspection answer and consent list that names them stays short.
const MaxAPIScopes = 32

// apiScopeName is the form of an API scope: a lowercase letter, then up to
// 63 of a-z 0-9 _ . : - (RFC 6749 §3.3 allows more; this keeps scope names
// free of anything that needs quoting in a header, a log line or a URL).
var apiScopeName = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,63}$`)

// unofferedScopes are OpenID Connect scopes Signet has no claims for
// (OpenID Connect Core §5.4): taken as API scopes they would promise an
// app an e-mail address, a phone number or a postal address.
var unofferedScopes = []string{"email", "phone", "address"}

// IsAPIScope reports whether scope is an API scope: a name of the client's
// own choosing outside KnownScopes, for the client's API (SPEC "API keys").
func IsAPIScope(scope string) bool {
	return !slices.Contains(KnownScopes(), scope) && !slices.Contains(unofferedScopes, scope) && apiScopeName.MatchString(scope)
}

// APIScopes returns the client's API scopes (see IsAPIScope), in order.
func (c *Client) APIScopes() []string {
	var out []string
	for _, s := range c.Scopes {
		if IsAPIScope(s) {
			out = append(out, s)
		}
	}
	return out
}

// checkScopes validates scopes and returns them without duplicates: the
// known scopes named, then the API scopes. A list that names no known
// scope allows every known one, so that "--scope read --scope trade" adds
// API scopes to a client that still signs people in.
func checkScopes(p *problems, scopes []string) []string {
	known := KnownScopes()
	var oidcScopes, api []string
	for _, s := range scopes {
		switch {
		case slices.Contains(known, s):
			if !slices.Contains(oidcScopes, s) {
				oidcScopes = append(oidcScopes, s)
			}
		case slices.Contains(unofferedScopes, s):
			p.addf("scope %q is an OpenID Connect scope Signet does not offer %s", s, knownNames(known))
		case IsAPIScope(s):
			if !slices.Contains(api, s) {
				api = append(api, s)
			}
		default:
			p.addf("scope %q is neither a known scope %s nor an API scope (a lowercase letter, then up to 63 of a-z 0-9 _ . : -)", s, knownNames(known))
		}
	}
	if len(api) > MaxAPIScopes {
		p.addf("%d API scopes; a client may have at most %d", len(api), MaxAPIScopes)
	}
	if len(oidcScopes) == 0 {
		oidcScopes = known
	}
	return append(oidcScopes, api...)
}

// knownNames is "(known: openid, profile, …)" for problem descriptions.
func knownNames(known []string) string {
	return "(known: " + strings.Join(known, ", ") + ")"
}

// checkTTL records a problem when a lifetime override is out of bounds.
func checkTTL(p *problems, label string, d time.Duration) {
	switch {
	case d < 0:
		p.addf("%s %s is negative", label, d)
	case d > MaxTTL:
		p.addf("%s %s exceeds the maximum of %s", label, d, MaxTTL)
	}
}

// checkID validates a fixed client ID that is not tied to a license and
// returns its normalized form.
func checkID(p *problems, id string) string {
	if isAddressShaped(id) {
		if addressChecksumBad(id) {
			p.addf("client ID %q has an invalid EIP-55 checksum", id)
		}
		return NormalizeID(id)
	}
	if !validIDChars(id) {
		p.addf("client ID %q must be 1-%d characters of A-Z a-z 0-9 . _ ~ - or a 0x address", id, maxIDLength)
	}
	return id
}

// validIDChars reports whether id is 1-128 unreserved URI characters (RFC 3986 §2.3).
func validIDChars(id string) bool {
	if id == "" || len(id) > maxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkAddress parses a 0x-prefixed address, recording a problem labelled with
// what the address is for when it is malformed or its EIP-55 checksum is wrong.
func checkAddress(p *problems, label, s string) (common.Address, bool) {
	if !isAddressShaped(s) {
		p.addf("%s %q is not a 0x-prefixed hex address", label, s)
		return common.Address{}, false
	}
	if addressChecksumBad(s) {
		p.addf("%s %q has an invalid EIP-55 checksum", label, s)
		return common.Address{}, false
	}
	return common.HexToAddress(s), true
}

// checkAddresses parses a list of addresses with checkAddress, dropping duplicates.
func checkAddresses(p *problems, label string, list []string) []common.Address {
	var out []common.Address
	for _, s := range list {
		if a, ok := checkAddress(p, label, s); ok && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
