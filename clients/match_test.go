package clients

import (
	"slices"
	"strings"
	"testing"
)

func TestRedirectURIAllowed(t *testing.T) {
	confidential := &Client{RedirectURIs: []string{
		"https://app.example/cb",
		"https://app.example/q?x=1",
		"http://127.0.0.1:8080/cb",
		"http://localhost:3000/cb",
		"http://dev.example:8080/cb", // registered in dev mode
	}}
	public := &Client{Public: true, RedirectURIs: []string{
		"http://127.0.0.1/cb",
		"http://[::1]:9000/v6",
		"http://localhost:3000/cli?mode=device",
		"https://127.0.0.1:8443/cb",
		"http://dev.example:8080/cb", // registered in dev mode
		"com.example.app:/oauth",
		"https://app.example/cb",
	}}
	tests := []struct {
		name   string
		client *Client
		uri    string
		want   bool
	}{
		// RFC 6749 §3.1.2.3: exact string comparison.
		{"exact", confidential, "https://app.example/cb", true},
		{"exact with query", confidential, "https://app.example/q?x=1", true},
		{"trailing slash differs", confidential, "https://app.example/cb/", false},
		{"prefix is not enough", confidential, "https://app.example/c", false},
		{"extra path segment", confidential, "https://app.example/cb/evil", false},
		{"query differs", confidential, "https://app.example/q?x=2", false},
		{"query added", confidential, "https://app.example/cb?x=1", false},
		{"query dropped", confidential, "https://app.example/q", false},
		{"path case differs", confidential, "https://app.example/CB", false},
		{"host case differs", confidential, "https://APP.example/cb", false},
		{"fragment added", confidential, "https://app.example/cb#x", false},
		{"explicit default port", confidential, "https://app.example:443/cb", false},
		{"unregistered", confidential, "https://evil.example/cb", false},
		{"empty", confidential, "", false},

		// RFC 8252 §7.3: any port on loopback, for public clients only.
		{"confidential loopback same port", confidential, "http://127.0.0.1:8080/cb", true},
		{"confidential loopback other port", confidential, "http://127.0.0.1:9999/cb", false},
		{"confidential localhost other port", confidential, "http://localhost:4000/cb", false},
		{"public 127.0.0.1 any port", public, "http://127.0.0.1:51234/cb", true},
		{"public 127.0.0.1 as registered", public, "http://127.0.0.1/cb", true},
		{"public [::1] other port", public, "http://[::1]:1234/v6", true},
		{"public [::1] without port", public, "http://[::1]/v6", true},
		{"public localhost other port, same query", public, "http://localhost:4000/cli?mode=device", true},
		{"public loopback, query must still match", public, "http://localhost:4000/cli?mode=other", false},
		{"public loopback, query must not be dropped", public, "http://localhost:4000/cli", false},
		{"public loopback, path must match", public, "http://127.0.0.1:5000/cb/", false},
		{"public loopback, path case must match", public, "http://127.0.0.1:5000/CB", false},
		{"public loopback, no fragment", public, "http://127.0.0.1:5000/cb#x", false},
		{"public loopback, query added", public, "http://127.0.0.1:5000/cb?x=1", false},
		{"public: 127.0.0.1 registration does not admit localhost", public, "http://localhost:5000/cb", false},
		{"public: localhost registration does not admit 127.0.0.1", public, "http://127.0.0.1:3000/cli?mode=device", false},
		{"public: [::1] registration does not admit 127.0.0.1", public, "http://127.0.0.1:9000/v6", false},
		{"public loopback port 0", public, "http://127.0.0.1:0/cb", false},
		{"public loopback port too large", public, "http://127.0.0.1:65536/cb", false},
		{"public loopback port not a number", public, "http://127.0.0.1:80a/cb", false},
		{"public loopback port with a sign", public, "http://127.0.0.1:+5000/cb", false},
		{"public loopback highest port", public, "http://127.0.0.1:65535/cb", true},
		{"public loopback user info trick", public, "http://127.0.0.1:80@evil.example/cb", false},
		{"public loopback user info before host", public, "http://evil@127.0.0.1:5000/cb", false},
		{"public loopback host suffix trick", public, "http://127.0.0.1.evil.example/cb", false},
		{"public https loopback: no port freedom", public, "https://127.0.0.1:9443/cb", false},
		{"public https loopback as registered", public, "https://127.0.0.1:8443/cb", true},
		{"public non-loopback http: no port freedom", public, "http://dev.example:9090/cb", false},
		{"public https: no port freedom", public, "https://app.example:8443/cb", false},
		{"public private-use scheme exact", public, "com.example.app:/oauth", true},
		{"public private-use scheme differs", public, "com.example.app:/oauth2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.client.RedirectURIAllowed(tt.uri); got != tt.want {
				t.Errorf("RedirectURIAllowed(%q) = %v, want %v", tt.uri, got, tt.want)
			}
		})
	}
}

func TestNormalizeID(t *testing.T) {
	tests := []struct{ in, want string }{
		{strings.ToLower(addrA), addrA},
		{"0x" + strings.ToUpper(addrA[2:]), addrA},
		{"0X" + strings.ToUpper(addrA[2:]), addrA},
		{addrA, addrA},
		{addrABadCS, addrA}, // any case: a lookup key, not a registration
		{"demo", "demo"},
		{"Demo-App_1", "Demo-App_1"},
		{"0x1234", "0x1234"},
		{addrA[2:], addrA[2:]}, // 40 hex digits without 0x
		{"0x" + strings.Repeat("z", 40), "0x" + strings.Repeat("z", 40)}, // not hex
		{addrA + "00", addrA + "00"},                                     // too long
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeID(tt.in); got != tt.want {
			t.Errorf("NormalizeID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHashSecret(t *testing.T) {
	// SHA-256 of "abc" (FIPS 180-2 test vector).
	want := "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := HashSecret("abc"); got != want {
		t.Errorf("HashSecret(abc) = %q, want %q", got, want)
	}
}

func TestCheckSecret(t *testing.T) {
	c := &Client{SecretHash: HashSecret("s3cret")}
	tests := []struct {
		name   string
		client *Client
		secret string
		want   bool
	}{
		{"right", c, "s3cret", true},
		{"wrong", c, "s3cret!", false},
		{"case differs", c, "S3cret", false},
		{"empty", c, "", false},
		{"the hash itself", c, c.SecretHash, false},
		{"no stored hash, empty secret", &Client{}, "", false},
		{"stored hash of empty, empty secret", &Client{SecretHash: HashSecret("")}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.client.CheckSecret(tt.secret); got != tt.want {
				t.Errorf("CheckSecret(%q) = %v, want %v", tt.secret, got, tt.want)
			}
		})
	}
}

func TestScopeAllowed(t *testing.T) {
	c := &Client{Scopes: []string{"openid", "email"}}
	for scope, want := range map[string]bool{"openid": true, "email": true, "profile": false, "siwe": false, "": false, "OPENID": false} {
		if got := c.ScopeAllowed(scope); got != want {
			t.Errorf("ScopeAllowed(%q) = %v, want %v", scope, got, want)
		}
	}
}

func TestRedirectOrigins(t *testing.T) {
	c := &Client{RedirectURIs: []string{
		"https://app.example/cb",
		"https://app.example/other", // same origin
		"https://App.Example:443/x", // default port and host case
		"https://app.example:8443/cb",
		"http://localhost:3000/cb",
		"http://127.0.0.1:80/cb",
		"http://[::1]:9000/v6",
		"com.example.app:/oauth", // not a web origin
	}}
	want := []string{
		"https://app.example",
		"https://app.example:8443",
		"http://localhost:3000",
		"http://127.0.0.1",
		"http://[::1]:9000",
	}
	if got := c.RedirectOrigins(); !slices.Equal(got, want) {
		t.Errorf("RedirectOrigins() =\n  %q\nwant\n  %q", got, want)
	}
}
