package clients

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// RedirectURIAllowed reports whether uri may receive this client's
// authorization responses.
//
// RFC 6749 §3.1.2.3 and OpenID Connect Core §3.1.2.1: the URI must equal a
// registered one, compared as exact strings. RFC 8252 §7.3: for a public
// (native) client whose registered URI is http on a loopback host
// (127.0.0.1, [::1] or localhost), any port matches, because the app picks a
// free port at run time; the host must be spelled as registered (127.0.0.1
// does not match localhost) and the path and query must still match exactly.
func (c *Client) RedirectURIAllowed(uri string) bool {
	for _, registered := range c.RedirectURIs {
		if uri == registered {
			return true
		}
		if c.Public && loopbackMatch(registered, uri) {
			return true
		}
	}
	return false
}

// loopbackMatch reports whether uri equals a registered loopback http URI
// except, possibly, for its port (RFC 8252 §7.3).
func loopbackMatch(registered, uri string) bool {
	rHost, _, rRest, ok := splitHTTP(registered)
	if !ok || !IsLoopbackHost(strings.Trim(rHost, "[]")) {
		return false
	}
	uHost, uPort, uRest, ok := splitHTTP(uri)
	return ok && uHost == rHost && uRest == rRest && validPort(uPort)
}

// splitHTTP splits an "http://" URI into its host (IPv6 in brackets), port and
// everything after the authority, without re-encoding anything; ok is false
// for other schemes. User info needs no check: an "@" lands in the host or
// the port, and then neither equals a registered loopback host nor is a number.
func splitHTTP(s string) (host, port, rest string, ok bool) {
	after, found := strings.CutPrefix(s, "http://")
	if !found {
		return "", "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	authority, rest := after[:end], after[end:]
	host = authority
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && !strings.Contains(authority[i:], "]") {
		host, port = authority[:i], authority[i+1:]
	}
	return host, port, rest, host != ""
}

// validPort reports whether p is empty (the scheme's default) or a TCP port number.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if strings.TrimLeft(p, "0123456789") != "" {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// ScopeAllowed reports whether the client may be granted scope.
func (c *Client) ScopeAllowed(scope string) bool {
	return slices.Contains(c.Scopes, scope)
}

// RedirectOrigins returns the distinct web origins (scheme://host[:port],
// RFC 6454) of the client's http and https redirect URIs, for CORS.
func (c *Client) RedirectOrigins() []string {
	var out []string
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			continue
		}
		host := strings.ToLower(u.Host)
		if p := u.Port(); (u.Scheme == "https" && p == "443") || (u.Scheme == "http" && p == "80") {
			host = strings.TrimSuffix(host, ":"+p)
		}
		origin := u.Scheme + "://" + host
		if !slices.Contains(out, origin) {
			out = append(out, origin)
		}
	}
	return out
}

// clone returns a deep copy of c, so that edits never reach the caller's value.
func (c *Client) clone() *Client {
	d := *c
	d.RedirectURIs = slices.Clone(c.RedirectURIs)
	d.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	d.Scopes = slices.Clone(c.Scopes)
	d.Signers = slices.Clone(c.Signers)
	d.AgentRegistries = slices.Clone(c.AgentRegistries)
	return &d
}
