package resource

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Config says which Signet to trust and how; zero values take the defaults.
type Config struct {
	Issuer    string   // Signet's issuer URL exactly as in iss (RFC 9068 §4): https, or http on a loopback host
	Audiences []string // the client IDs whose tokens are taken: aud must name one (RFC 9068 §4)
	// ClientID and ClientSecret authenticate introspection with HTTP Basic
	// (RFC 7662 §2.1); without them API keys are refused.
	ClientID, ClientSecret string

	Introspect      bool             // every Bearer token by introspection, so revocations show within CacheTTL
	Opaque          bool             // a Bearer token that is not a JWT by introspection
	Realm           string           // of WWW-Authenticate (RFC 6750 §3), without '"' or '\'; default "api"
	Skew            time.Duration    // allowed on exp, nbf and iat; default 30 s
	CacheTTL        time.Duration    // reuse of an active introspection answer; default 10 s
	NegativeTTL     time.Duration    // reuse of an inactive one; default 2 s
	CacheSize       int              // introspection answers kept; default 10000
	RefetchInterval time.Duration    // least time between JWKS fetches; default 10 s
	KeysMaxAge      time.Duration    // a JWKS this old is fetched again; default 15 min
	HTTPClient      *http.Client     // default: one with a 10 s timeout
	Now             func() time.Time // the clock; default time.Now
	// WriteError writes a refusal; default [WriteError]. WWW-Authenticate
	// is set before it is called.
	WriteError func(http.ResponseWriter, *http.Request, *Error)
}

// Verifier checks Signet's credentials; it is safe for concurrent use.
type Verifier struct {
	cfg Config

	docMu sync.Mutex
	doc   *discovery

	fetchMu   sync.Mutex // one JWKS fetch at a time
	fetchedAt time.Time  // of the last fetch, under fetchMu
	fetchErr  error      // of the last fetch, under fetchMu

	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey // by kid
	loadedAt time.Time
	cache    map[[sha256.Size]byte]entry
}

// New checks cfg and fills in its defaults. It makes no request: Signet's
// discovery document is read when first needed.
func New(cfg Config) (*Verifier, error) {
	if err := checkURL(cfg.Issuer); err != nil {
		return nil, err
	}
	if len(cfg.Audiences) == 0 || slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("resource: Audiences must name the client IDs whose tokens are taken")
	}
	if (cfg.Introspect || cfg.Opaque) && (cfg.ClientID == "" || cfg.ClientSecret == "") {
		return nil, errors.New("resource: Introspect and Opaque need ClientID and ClientSecret")
	}
	if strings.ContainsAny(cfg.Realm, `"\`) { // RFC 6750 §3: a quoted-string without quotes or backslashes
		return nil, errors.New(`resource: Realm must not contain '"' or '\'`)
	}
	orDefault(&cfg.Skew, 30*time.Second)
	orDefault(&cfg.CacheTTL, 10*time.Second)
	orDefault(&cfg.NegativeTTL, 2*time.Second)
	orDefault(&cfg.RefetchInterval, 10*time.Second)
	orDefault(&cfg.KeysMaxAge, 15*time.Minute)
	orDefault(&cfg.CacheSize, 10000)
	orDefault(&cfg.Realm, "api")
	orDefault(&cfg.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.WriteError == nil {
		cfg.WriteError = WriteError
	}
	return &Verifier{cfg: cfg, cache: map[[sha256.Size]byte]entry{}}, nil
}

func orDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// checkURL refuses a URL that is not https, but for a loopback host: keys
// and answers fetched in the clear could be forged.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("resource: " + raw + " is not an absolute URL")
	}
	loopback := u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback()
	if u.Scheme != "https" && (u.Scheme != "http" || !loopback) {
		return errors.New("resource: " + raw + " must be https (http only on a loopback host)")
	}
	return nil
}

// Principal is whom a verified credential speaks for.
type Principal struct {
	Subject  string    // the CAIP-10 account, e.g. "eip155:1:0xAbC…"
	Address  string    // the account address, Subject's last part
	ClientID string    // the Signet client the credential was issued to
	Scopes   []string  // the credential's scopes
	APIKeyID string    // the API key the credential is or came from, if any
	Expiry   time.Time // zero when Signet did not say
}

// HasScope reports whether the credential carries scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// newPrincipal builds a Principal from a credential's claims: sub must be a
// CAIP-10 account (SPEC "Tokens and claims"), client_id present (RFC 9068 §2.2).
func newPrincipal(sub, clientID, scope, apiKeyID string, exp time.Time) (*Principal, error) {
	parts := strings.Split(sub, ":")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return nil, invalid("the credential's subject is not a CAIP-10 account", nil)
	}
	if clientID == "" {
		return nil, invalid("the credential names no client", nil)
	}
	return &Principal{Subject: sub, Address: parts[2], ClientID: clientID, Scopes: strings.Fields(scope), APIKeyID: apiKeyID, Expiry: exp}, nil
}
