package bearer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

const issuer = "https://id.example"

// key is a published key as the key ring hands it out.
type key struct {
	id  string
	alg jose.SignatureAlgorithm
	pub any
}

func (k key) ID() string                                 { return k.id }
func (k key) Algorithm() jose.SignatureAlgorithm         { return k.alg }
func (k key) Use() string                                { return "sig" }
func (k key) Key() any                                   { return k.pub }
func (k keys) KeySet(context.Context) ([]zop.Key, error) { return k.list, k.err }

type keys struct {
	list []zop.Key
	err  error
}

func mint(t *testing.T, priv any, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerify: each rule of an access token refuses a token that breaks it
// alone, with ErrInvalid; a good one passes with its claims.
func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := keys{list: []zop.Key{key{"k1", jose.RS256, &rsaKey.PublicKey}, key{"e1", jose.ES256, &ecKey.PublicKey}}}
	v := New(set, issuer, func() time.Time { return now })
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": issuer, "sub": "eip155:1:0xAb", "aud": "app", "exp": now.Unix() + 60, "jti": "t1", "client_id": "app", "scope": "openid read"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	good := mint(t, rsaKey, jose.RS256, "k1", "at+jwt", claims(nil))
	c, err := v.Verify(context.Background(), good, "app")
	if err != nil || c.Subject != "eip155:1:0xAb" || c.JWTID != "t1" || len(c.Scopes()) != 2 || c.Scopes()[1] != "read" {
		t.Fatalf("good token: %+v, %v", c, err)
	}
	var extra struct {
		Scope string `json:"scope"`
	}
	if err := c.Decode(&extra); err != nil || extra.Scope != "openid read" {
		t.Fatalf("Decode: %+v, %v", extra, err)
	}
	for name, raw := range map[string]string{
		"typed JWT (an ID token)":       mint(t, rsaKey, jose.RS256, "k1", "JWT", claims(nil)),
		"untyped":                       mint(t, rsaKey, jose.RS256, "k1", "", claims(nil)),
		"ES256 with a published EC key": mint(t, ecKey, jose.ES256, "e1", "at+jwt", claims(nil)),
		"unknown kid":                   mint(t, rsaKey, jose.RS256, "k2", "at+jwt", claims(nil)),
		"signed by another key":         mint(t, other, jose.RS256, "k1", "at+jwt", claims(nil)),
		"another issuer":                mint(t, rsaKey, jose.RS256, "k1", "at+jwt", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })),
		"expired":                       mint(t, rsaKey, jose.RS256, "k1", "at+jwt", claims(func(c map[string]any) { c["exp"] = now.Unix() })),
		"another client":                mint(t, rsaKey, jose.RS256, "k1", "at+jwt", claims(func(c map[string]any) { c["aud"] = "other" })),
		"no subject":                    mint(t, rsaKey, jose.RS256, "k1", "at+jwt", claims(func(c map[string]any) { delete(c, "sub") })),
		"not a JWT":                     "sgk_" + "00",
	} {
		if _, err := v.Verify(context.Background(), raw, "app"); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	broken := keys{err: errors.New("database down")}
	if _, err := New(broken, issuer, func() time.Time { return now }).Verify(context.Background(), good, "app"); err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("a key set that cannot be read: %v, want Signet's error, not ErrInvalid", err)
	}
}

// TestVerifyClient: a token for any one client passes and names it; two
// audiences, or a client_id that disagrees with aud, do not.
func TestVerifyClient(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	v := New(keys{list: []zop.Key{key{"k1", jose.RS256, &rsaKey.PublicKey}}}, issuer, func() time.Time { return now })
	base := func(aud any, clientID string) string {
		return mint(t, rsaKey, jose.RS256, "k1", "at+jwt", map[string]any{"iss": issuer, "sub": "s", "aud": aud, "exp": now.Unix() + 60, "client_id": clientID})
	}
	if c, err := v.VerifyClient(context.Background(), base([]string{"b"}, "b")); err != nil || c.Audience[0] != "b" {
		t.Fatalf("one audience: %+v, %v", c, err)
	}
	for name, raw := range map[string]string{
		"two audiences":       base([]string{"a", "b"}, "a"),
		"client_id disagrees": base("a", "b"),
		"empty audience":      base("", ""),
	} {
		if _, err := v.VerifyClient(context.Background(), raw); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

func TestFromRequest(t *testing.T) {
	for header, want := range map[string]string{
		"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc ": "abc",
		"": "", "Basic abc": "", "Bearer": "", "Bearer ": "", "Bearerabc": "",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", header)
		got, ok := FromRequest(r)
		if got != want || ok != (want != "") {
			t.Errorf("FromRequest(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
}
