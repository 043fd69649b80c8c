package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"
)

// KeySet is the provider's published keys; *keyring.Ring is one.
type KeySet interface {
	// KeySet returns the published public keys.
	KeySet(ctx context.Context) ([]zop.Key, error)
}

// Verifier checks access tokens against the key set; use [New].
type Verifier struct {
	keys   KeySet
	issuer string
	now    func() time.Time
}

// New returns a Verifier of tokens that issuer signed with keys; now is
// the clock (nil: time.Now).
func New(keys KeySet, issuer string, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{keys: keys, issuer: issuer, now: now}
}

// ErrInvalid is any token the verifier refuses: the caller answers 401
// invalid_token (RFC 6750 §3.1). Other errors are Signet's (the key set
// could not be read).
var ErrInvalid = errors.New("bearer: not an unexpired access token of this issuer for this client")

// Claims are the registered claims of a verified access token (RFC 9068
// §2.2); Decode reads any other.
type Claims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience Audience `json:"aud"`
	Expiry   int64    `json:"exp"`
	JWTID    string   `json:"jti"`
	ClientID string   `json:"client_id"`
	// Scope is the space-separated scopes the token was granted (RFC 9068 §2.2.3).
	Scope string `json:"scope"`

	payload []byte
}

// Decode reads the token's claims into v, for the claims Claims lacks.
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.payload, v) }

// Scopes returns the token's scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// Audience is the aud claim: one string or an array of them (RFC 7519 §4.1.3).
type Audience []string

// UnmarshalJSON reads a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = Audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// Verify checks raw as an access token for the client audience and returns
// its claims. Like any resource server that verifies offline, it does not
// see a revocation before the token expires.
func (v *Verifier) Verify(ctx context.Context, raw, audience string) (*Claims, error) {
	c, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.Audience, audience) {
		return nil, ErrInvalid
	}
	return c, nil
}

// VerifyClient checks raw as an access token of whichever client it names,
// for endpoints that serve every client: it must name exactly one
// audience, that client (and client_id, when present, must agree), which
// Claims.Audience[0] then is. The caller decides whether that client may
// call it.
func (v *Verifier) VerifyClient(ctx context.Context, raw string) (*Claims, error) {
	c, err := v.verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if len(c.Audience) != 1 || c.Audience[0] == "" || (c.ClientID != "" && c.ClientID != c.Audience[0]) {
		return nil, ErrInvalid
	}
	return c, nil
}

// verify checks everything but the audience: RS256 (RFC 9068 §4: the
// algorithm is the one the issuer uses), typed at+jwt (RFC 9068 §2.1, so
// an ID token is no access token), a kid of the key set, the signature,
// the issuer, and exp (RFC 7519 §4.1.4).
func (v *Verifier) verify(ctx context.Context, raw string) (*Claims, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrInvalid
	}
	header := jws.Signatures[0].Protected
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, ErrInvalid
	}
	keys, err := v.keys.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k zop.Key) bool { return k.ID() == header.KeyID && k.Algorithm() == jose.RS256 })
	if i < 0 {
		return nil, ErrInvalid
	}
	payload, err := jws.Verify(keys[i].Key())
	if err != nil {
		return nil, ErrInvalid
	}
	c := &Claims{payload: payload}
	if err := json.Unmarshal(payload, c); err != nil {
		return nil, ErrInvalid
	}
	if c.Issuer != v.issuer || c.Subject == "" || v.now().Unix() >= c.Expiry {
		return nil, ErrInvalid
	}
	return c, nil
}

// FromRequest returns the token of an "Authorization: Bearer" header (RFC
// 6750 §2.1; the scheme's case does not matter, RFC 9110 §11.1); ok is
// false when the request carries none.
func FromRequest(r *http.Request) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
