package clients

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EIP-55 test vectors.
const (
	addrA      = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	addrB      = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
	addrC      = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
	addrABadCS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD" // last letter's case flipped
)

const knownList = "(known: openid, profile, offline_access, siwe, agent)"

// apiScopeWords end the problem of a scope that is no API scope either.
const apiScopeWords = " nor an API scope (a lowercase letter, then up to 63 of a-z 0-9 _ . : -)"

// apiScopes returns n distinct API scope names.
func apiScopes(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "scope" + strconv.Itoa(i)
	}
	return out
}

func validParams() Params {
	return Params{Name: "App", RedirectURIs: []string{"https://app.example/cb"}}
}

func TestAddValidation(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Params)
		secure bool // false: registry built WithInsecureRedirects
		want   []string
	}{
		// Name.
		{"name missing", func(p *Params) { p.Name = "" }, true,
			[]string{"name is required"}},
		{"name blank", func(p *Params) { p.Name = "  \t" }, true,
			[]string{"name is required"}},
		{"name too long", func(p *Params) { p.Name = strings.Repeat("a", 201) }, true,
			[]string{"name is longer than 200 characters"}},
		{"name 200 multibyte characters", func(p *Params) { p.Name = strings.Repeat("é", 200) }, true, nil},

		// Redirect URIs, RFC 6749 §3.1.2 and RFC 8252.
		{"no redirect URI", func(p *Params) { p.RedirectURIs = nil }, true,
			[]string{"at least one redirect URI is required"}},
		{"redirect URI not absolute", func(p *Params) { p.RedirectURIs = []string{"foo"} }, true,
			[]string{`redirect URI "foo" is not an absolute URL`}},
		{"redirect URI relative path", func(p *Params) { p.RedirectURIs = []string{"/cb"} }, true,
			[]string{`redirect URI "/cb" is not an absolute URL`}},
		{"redirect URI empty", func(p *Params) { p.RedirectURIs = []string{""} }, true,
			[]string{`redirect URI "" is not an absolute URL`}},
		{"redirect URI unparsable", func(p *Params) { p.RedirectURIs = []string{"http://[::1"} }, true,
			[]string{`redirect URI "http://[::1" is not a valid URL`}},
		{"redirect URI with fragment", func(p *Params) { p.RedirectURIs = []string{"https://app.example/cb#x"} }, true,
			[]string{`redirect URI "https://app.example/cb#x" has a fragment (RFC 6749 §3.1.2)`}},
		{"redirect URI with empty fragment", func(p *Params) { p.RedirectURIs = []string{"https://app.example/cb#"} }, true,
			[]string{`redirect URI "https://app.example/cb#" has a fragment (RFC 6749 §3.1.2)`}},
		{"redirect URI with user info", func(p *Params) { p.RedirectURIs = []string{"https://me:pw@app.example/cb"} }, true,
			[]string{`redirect URI "https://me:pw@app.example/cb" has user info`}},
		{"https redirect URI without host", func(p *Params) { p.RedirectURIs = []string{"https:///cb"} }, true,
			[]string{`redirect URI "https:///cb" has no host`}},
		{"http redirect URI without host", func(p *Params) { p.RedirectURIs = []string{"http:///cb"} }, true,
			[]string{`redirect URI "http:///cb" has no host`}},
		{"http on a public host", func(p *Params) { p.RedirectURIs = []string{"http://app.example/cb"} }, true,
			[]string{`redirect URI "http://app.example/cb" uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)`}},
		{"http on a public host in dev mode", func(p *Params) { p.RedirectURIs = []string{"http://app.example/cb"} }, false, nil},
		{"http on loopback hosts", func(p *Params) {
			p.RedirectURIs = []string{"http://localhost:3000/cb", "http://127.0.0.1/cb", "http://[::1]:8080/cb", "http://LocalHost/cb"}
		}, true, nil},
		{"http on 127.0.0.2", func(p *Params) { p.RedirectURIs = []string{"http://127.0.0.2/cb"} }, true,
			[]string{`redirect URI "http://127.0.0.2/cb" uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)`}},
		{"scheme without a dot", func(p *Params) { p.RedirectURIs = []string{"ftp://app.example/cb"} }, true,
			[]string{`redirect URI "ftp://app.example/cb" has scheme "ftp"; use https, http on a loopback host, or a reverse-domain private-use scheme (RFC 8252 §7.1)`}},
		{"javascript scheme on a public client", func(p *Params) { p.Public = true; p.RedirectURIs = []string{"javascript:alert(1)"} }, true,
			[]string{`redirect URI "javascript:alert(1)" has scheme "javascript"; use https, http on a loopback host, or a reverse-domain private-use scheme (RFC 8252 §7.1)`}},
		{"private-use scheme on a confidential client", func(p *Params) { p.RedirectURIs = []string{"com.example.app:/cb"} }, true,
			[]string{`redirect URI "com.example.app:/cb" uses a private-use scheme, which only public clients may (RFC 8252 §7.1)`}},
		{"private-use scheme on a confidential client in dev mode", func(p *Params) { p.RedirectURIs = []string{"com.example.app:/cb"} }, false,
			[]string{`redirect URI "com.example.app:/cb" uses a private-use scheme, which only public clients may (RFC 8252 §7.1)`}},
		{"private-use scheme on a public client", func(p *Params) { p.Public = true; p.RedirectURIs = []string{"com.example.app:/cb"} }, true, nil},
		{"fragment in dev mode", func(p *Params) { p.RedirectURIs = []string{"http://app.example/cb#x"} }, false,
			[]string{`redirect URI "http://app.example/cb#x" has a fragment (RFC 6749 §3.1.2)`}},

		// Post-logout redirect URIs follow the same URI rules but are optional.
		{"post-logout URI over http", func(p *Params) { p.PostLogoutRedirectURIs = []string{"http://app.example/bye"} }, true,
			[]string{`post-logout redirect URI "http://app.example/bye" uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)`}},
		{"post-logout URI with fragment", func(p *Params) { p.PostLogoutRedirectURIs = []string{"https://app.example/bye#x"} }, true,
			[]string{`post-logout redirect URI "https://app.example/bye#x" has a fragment (RFC 6749 §3.1.2)`}},

		// Scopes.
		{"API scopes beside known ones", func(p *Params) { p.Scopes = []string{"openid", "admin", "trade:spot"} }, true, nil},
		{"scope case matters", func(p *Params) { p.Scopes = []string{"OpenID"} }, true,
			[]string{`scope "OpenID" is neither a known scope ` + knownList + apiScopeWords}},
		{"API scope with a space", func(p *Params) { p.Scopes = []string{"read write"} }, true,
			[]string{`scope "read write" is neither a known scope ` + knownList + apiScopeWords}},
		{"API scope starting with a digit", func(p *Params) { p.Scopes = []string{"1read"} }, true,
			[]string{`scope "1read" is neither a known scope ` + knownList + apiScopeWords}},
		{"API scope of 65 characters", func(p *Params) { p.Scopes = []string{"a" + strings.Repeat("b", 64)} }, true,
			[]string{`scope "a` + strings.Repeat("b", 64) + `" is neither a known scope ` + knownList + apiScopeWords}},
		{"API scope of 64 characters", func(p *Params) { p.Scopes = []string{"a" + strings.Repeat("b", 63)} }, true, nil},
		{"an OpenID Connect scope Signet does not offer", func(p *Params) { p.Scopes = []string{"openid", "email"} }, true,
			[]string{`scope "email" is an OpenID Connect scope Signet does not offer ` + knownList}},
		{"32 API scopes", func(p *Params) { p.Scopes = apiScopes(32) }, true, nil},
		{"33 API scopes", func(p *Params) { p.Scopes = apiScopes(33) }, true,
			[]string{"33 API scopes; a client may have at most 32"}},

		// Token lifetimes.
		{"negative access token TTL", func(p *Params) { p.AccessTokenTTL = -time.Second }, true,
			[]string{"access token TTL -1s is negative"}},
		{"negative ID token TTL", func(p *Params) { p.IDTokenTTL = -time.Minute }, true,
			[]string{"ID token TTL -1m0s is negative"}},
		{"negative refresh token TTL", func(p *Params) { p.RefreshTokenTTL = -time.Hour }, true,
			[]string{"refresh token TTL -1h0m0s is negative"}},
		{"access token TTL over the cap", func(p *Params) { p.AccessTokenTTL = MaxTTL + time.Second }, true,
			[]string{"access token TTL 336h0m1s exceeds the maximum of 336h0m0s"}},
		{"ID token TTL over the cap", func(p *Params) { p.IDTokenTTL = 15 * 24 * time.Hour }, true,
			[]string{"ID token TTL 360h0m0s exceeds the maximum of 336h0m0s"}},
		{"refresh token TTL over the cap", func(p *Params) { p.RefreshTokenTTL = 30 * 24 * time.Hour }, true,
			[]string{"refresh token TTL 720h0m0s exceeds the maximum of 336h0m0s"}},
		{"TTLs at the cap", func(p *Params) { p.AccessTokenTTL, p.IDTokenTTL, p.RefreshTokenTTL = MaxTTL, MaxTTL, MaxTTL }, true, nil},

		// Fixed client IDs.
		{"ID with a space", func(p *Params) { p.ID = "my app" }, true,
			[]string{`client ID "my app" must be 1-128 characters of A-Z a-z 0-9 . _ ~ - or a 0x address`}},
		{"ID with a slash", func(p *Params) { p.ID = "a/b" }, true,
			[]string{`client ID "a/b" must be 1-128 characters of A-Z a-z 0-9 . _ ~ - or a 0x address`}},
		{"ID too long", func(p *Params) { p.ID = strings.Repeat("a", 129) }, true,
			[]string{`client ID "` + strings.Repeat("a", 129) + `" must be 1-128 characters of A-Z a-z 0-9 . _ ~ - or a 0x address`}},
		{"ID of 128 unreserved characters", func(p *Params) { p.ID = strings.Repeat("aZ0._~-x", 16) }, true, nil},
		{"ID is an address", func(p *Params) { p.ID = strings.ToLower(addrA) }, true, nil},
		{"ID is an address with a bad checksum", func(p *Params) { p.ID = addrABadCS }, true,
			[]string{`client ID "` + addrABadCS + `" has an invalid EIP-55 checksum`}},

		// Developer licenses.
		{"license not an address", func(p *Params) { p.License, p.ChainID = "0x12", 1 }, true,
			[]string{`license "0x12" is not a 0x-prefixed hex address`}},
		{"license without 0x", func(p *Params) { p.License, p.ChainID = addrA[2:], 1 }, true,
			[]string{`license "` + addrA[2:] + `" is not a 0x-prefixed hex address`}},
		{"license with a bad checksum", func(p *Params) { p.License, p.ChainID = addrABadCS, 1 }, true,
			[]string{`license "` + addrABadCS + `" has an invalid EIP-55 checksum`}},
		{"license without chain ID", func(p *Params) { p.License = addrA }, true,
			[]string{"chain ID must be positive with a license"}},
		{"license with negative chain ID", func(p *Params) { p.License, p.ChainID = addrA, -1 }, true,
			[]string{"chain ID must be positive with a license"}},
		{"chain ID without license", func(p *Params) { p.ChainID = 137 }, true,
			[]string{"chain ID 137 given without a license"}},
		{"ID differs from license", func(p *Params) { p.License, p.ChainID, p.ID = addrA, 1, "other" }, true,
			[]string{`client ID "other" differs from the license address ` + addrA}},
		{"ID equals license in another case", func(p *Params) { p.License, p.ChainID, p.ID = addrA, 1, strings.ToLower(addrA) }, true, nil},

		// Signers.
		{"signer not an address", func(p *Params) { p.Signers = []string{addrB, "0xnope"} }, true,
			[]string{`signer "0xnope" is not a 0x-prefixed hex address`}},
		{"signer with a bad checksum", func(p *Params) { p.Signers = []string{addrABadCS} }, true,
			[]string{`signer "` + addrABadCS + `" has an invalid EIP-55 checksum`}},

		// Every problem at once.
		{"several problems", func(p *Params) {
			p.Name = ""
			p.RedirectURIs = []string{"foo", "https://ok.example/cb", "http://app.example/cb"}
			p.Scopes = []string{"Admin"}
			p.AccessTokenTTL = -time.Second
		}, true, []string{
			"name is required",
			`redirect URI "foo" is not an absolute URL`,
			`redirect URI "http://app.example/cb" uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)`,
			`scope "Admin" is neither a known scope ` + knownList + apiScopeWords,
			"access token TTL -1s is negative",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if !tt.secure {
				opts = append(opts, WithInsecureRedirects())
			}
			reg, store, _ := newTestRegistry(opts...)
			p := validParams()
			tt.edit(&p)
			c, _, err := reg.Add(context.Background(), p)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if store.stored(c.ID) == nil {
					t.Fatalf("client %q not stored", c.ID)
				}
				return
			}
			if got := problemsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems =\n  %q\nwant\n  %q", got, tt.want)
			}
			if c != nil {
				t.Errorf("Add returned client %+v with an error", c)
			}
			if n := len(store.clients); n != 0 {
				t.Errorf("store holds %d clients after a failed Add", n)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	reg, _, _ := newTestRegistry()
	_, _, err := reg.Add(context.Background(), Params{RedirectURIs: []string{"foo"}})
	want := `invalid client: name is required; redirect URI "foo" is not an absolute URL`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
}

func TestKnownScopesIsACopy(t *testing.T) {
	s := KnownScopes()
	want := []string{"openid", "profile", "offline_access", "siwe", "agent"}
	if !slices.Equal(s, want) {
		t.Fatalf("KnownScopes() = %q, want %q", s, want)
	}
	s[0] = "changed"
	if got := KnownScopes(); !slices.Equal(got, want) {
		t.Fatalf("KnownScopes() after mutating a result = %q", got)
	}
}

// TestAPIScopes: a client's own API scopes are kept after its known ones,
// without duplicates; naming only API scopes keeps every known scope, so
// the client still signs people in; tokens may carry them (ScopeAllowed).
func TestAPIScopes(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.Scopes = []string{"read", "trade", "read"}
	c, _, err := reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(KnownScopes(), "read", "trade"); !slices.Equal(c.Scopes, want) {
		t.Fatalf("scopes = %q, want %q", c.Scopes, want)
	}
	if !slices.Equal(c.APIScopes(), []string{"read", "trade"}) || !c.ScopeAllowed("trade") || c.ScopeAllowed("withdraw") {
		t.Fatalf("APIScopes = %q; ScopeAllowed(trade) = %v", c.APIScopes(), c.ScopeAllowed("trade"))
	}
	p.Scopes = []string{"trade", "openid", "siwe"}
	p.ID = "named"
	c, _, err = reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"openid", "siwe", "trade"}; !slices.Equal(c.Scopes, want) {
		t.Fatalf("scopes = %q, want %q", c.Scopes, want)
	}
	for s, want := range map[string]bool{"read": true, "trade:spot": true, "a.b_c-d": true, "openid": false, "agent": false, "email": false, "Read": false, "": false} {
		if got := IsAPIScope(s); got != want {
			t.Errorf("IsAPIScope(%q) = %v, want %v", s, got, want)
		}
	}
}
