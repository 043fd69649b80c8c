package op

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/claims"
	"github.com/signet-id/signet/internal/keyring"
)

// Access tokens are JWTs typed "at+jwt" (RFC 9068 §2.1), so that a resource
// server cannot mistake an ID token for one or the other way round. zitadel
// types every JWT it signs "JWT", so Signet signs access tokens itself:
// clients declare opaque access tokens, zitadel then asks its Crypto to
// encrypt "tokenID:subject" into the token value, and tokenCrypto answers
// with the JWT of the token the store has just written (the store hands
// its claims over in pending). Everything else zitadel encrypts (the
// authorization codes) goes to zitadel's own AES-GCM crypto, as before.
// Incoming access tokens are JWTs, which zitadel verifies against the key
// set when the Crypto cannot decrypt them.
type tokenCrypto struct {
	codes zop.Crypto
	keys  *keyring.Ring

	mu      sync.Mutex
	pending map[string]*oidc.AccessTokenClaims // by token ID
}

var _ zop.Crypto = (*tokenCrypto)(nil)

func newTokenCrypto(key [32]byte, keys *keyring.Ring) *tokenCrypto {
	gcm := zop.NewAES256GCMCrypto(key, "signet-1")
	return &tokenCrypto{
		codes:   zop.NewCompositeCrypto(gcm, []zop.Decrypter{gcm, zop.NewAESCrypto(key)}),
		keys:    keys,
		pending: map[string]*oidc.AccessTokenClaims{},
	}
}

// expect hands over the claims of an access token about to be issued.
func (c *tokenCrypto) expect(claims *oidc.AccessTokenClaims) {
	c.mu.Lock()
	c.pending[claims.JWTID] = claims
	c.mu.Unlock()
}

// take removes and returns the claims handed over for a token ID.
func (c *tokenCrypto) take(id string) *oidc.AccessTokenClaims {
	c.mu.Lock()
	defer c.mu.Unlock()
	claims := c.pending[id]
	delete(c.pending, id)
	return claims
}

// Encrypt signs the access token "tokenID:subject" names, or encrypts
// anything else with zitadel's crypto.
func (c *tokenCrypto) Encrypt(s string) (string, error) {
	id, subject, ok := strings.Cut(s, ":")
	if !ok {
		return c.codes.Encrypt(s)
	}
	claims := c.take(id)
	if claims == nil {
		return c.codes.Encrypt(s)
	}
	if claims.Subject != subject {
		return "", errors.New("access token subject changed between store and signature")
	}
	return c.sign(claims)
}

// Decrypt opens what zitadel's crypto encrypted.
func (c *tokenCrypto) Decrypt(s string) (string, error) { return c.codes.Decrypt(s) }

// sign signs claims with the current key, typed at+jwt.
func (c *tokenCrypto) sign(claims *oidc.AccessTokenClaims) (string, error) {
	k, err := c.keys.SigningKey(context.Background())
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: k.SignatureAlgorithm(),
		Key:       jose.JSONWebKey{Key: k.Key(), KeyID: k.ID()},
	}, (&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		return "", err
	}
	return crypto.Sign(claims, signer)
}

// accessTokenClaims are an access token's claims (RFC 9068 §2.2): those of
// zitadel's JWT access tokens plus the account claims of the login.
func accessTokenClaims(issuer string, r loginRequest, id string, exp time.Time) *oidc.AccessTokenClaims {
	c := oidc.NewAccessTokenClaims(issuer, r.GetSubject(), r.GetAudience(), exp, id, r.GetClientID(), 0)
	private := claims.Of(r.login(), r.GetScopes())
	private["scope"] = strings.Join(r.GetScopes(), " ")
	c.Claims = private
	return c
}
