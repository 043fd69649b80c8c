package op

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/claims"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/internal/metrics"
	"github.com/signet-id/signet/internal/sessions"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
	"github.com/signet-id/signet/web"
)

// Config is what the provider needs to know; cmd/signet fills it from the
// operator's configuration, starting from DefaultConfig.
type Config struct {
	// Issuer is the issuer URL exactly as it appears in tokens and discovery.
	Issuer string
	// Insecure allows a plain-http issuer (dev mode and localhost).
	Insecure bool
	// Demo serves the demo relying party at /demo.
	Demo bool
	// ChainIDs are the chains a SIWE message may name; the first is the default.
	ChainIDs []int64
	// AuthRequestTTL bounds how long a browser has to sign in.
	AuthRequestTTL time.Duration
	// CodeTTL is the authorization code lifetime.
	CodeTTL time.Duration
	// AccessTokenTTL, IDTokenTTL and RefreshTokenTTL are the defaults that a
	// client's own settings override.
	AccessTokenTTL  time.Duration
	IDTokenTTL      time.Duration
	RefreshTokenTTL time.Duration
	// ChallengeTTL is a SIWE challenge's lifetime.
	ChallengeTTL time.Duration
	// KeyPublishDelay is how long a new signing key is published before it
	// signs; JWKS caching follows it.
	KeyPublishDelay time.Duration
	// RateLimits bounds the sign-in endpoints.
	RateLimits httpapi.RateLimits
	// CryptoKey encrypts zitadel's opaque values; it must be the same on
	// every replica (see LoadCryptoKey).
	CryptoKey [32]byte
	// MetricsElsewhere leaves /metrics off the provider's handler: the
	// operator serves the metrics on a listener of its own.
	MetricsElsewhere bool
	// SessionTTL keeps a browser's sign-in for single sign-on this long
	// (see op/sessions.go); zero turns sessions off.
	SessionTTL time.Duration
}

// DefaultConfig returns SPEC's defaults for issuer: the one table of them,
// which the command line's configuration starts from.
func DefaultConfig(issuer string) Config {
	return Config{
		Issuer:          issuer,
		ChainIDs:        []int64{1},
		AuthRequestTTL:  15 * time.Minute,
		CodeTTL:         60 * time.Second,
		AccessTokenTTL:  time.Hour,
		IDTokenTTL:      time.Hour,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		ChallengeTTL:    siwe.DefaultLifetime,
		RateLimits:      httpapi.RateLimits{PerIP: 120, PerAddress: 30, Window: time.Minute},
	}
}

// Server is the OpenID provider with Signet's sign-in surfaces and
// operational endpoints, as one http.Handler.
type Server struct {
	cfg      Config
	db       *storage.DB
	clients  *clients.Registry
	keys     *keyring.Ring
	pages    *httpapi.Pages
	log      *slog.Logger
	now      func() time.Time
	metrics  *metrics.Metrics
	provider *zop.Provider
	store    *store
	core     *signin.Core
	apiKeys  *apikeys.Keys
	limits   *httpapi.Limits
	binding  binding.Cookie
	sessions *sessions.Sessions
	issuer   *url.URL
	handler  http.Handler

	discovery httpapi.Cached
	cors      *cors.Cors
}

// Deps are the parts the server is built from.
type Deps struct {
	DB       *storage.DB
	Registry *clients.Registry
	Keys     *keyring.Ring
	Logger   *slog.Logger
	Metrics  *metrics.Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Signatures checks SIWE signatures; nil means plain EOA recovery.
	Signatures siwe.SignatureChecker
	// Names finds an account's primary ENS name for preferred_username; nil
	// means the address is the username.
	Names signin.Names
	// Agents checks agent sign-ins (SIWA); nil reads no registry, so that
	// agents sign in only offline, where their client accepts it.
	Agents *agents.Checker
}

// New builds the server.
func New(cfg Config, d Deps) (*Server, error) {
	issuer, err := url.Parse(cfg.Issuer)
	if err != nil || issuer.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", cfg.Issuer)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(nil)
	}
	verifier, err := siwe.NewVerifier(siwe.Config{
		Domain:   issuer.Host,
		URI:      cfg.Issuer,
		ChainIDs: cfg.ChainIDs,
		Lifetime: cfg.ChallengeTTL,
	}, d.DB, siwe.WithClock(d.Now), siwe.WithDelegates(signin.LicenseSigners{Clients: d.Registry}), siwe.WithSignatureChecker(d.Signatures))
	if err != nil {
		return nil, fmt.Errorf("siwe: %w", err)
	}
	pages, err := web.New()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: d.DB, clients: d.Registry, keys: d.Keys, log: d.Logger, now: d.Now, metrics: d.Metrics, issuer: issuer,
		pages:   &httpapi.Pages{Pages: pages, Static: strings.TrimSuffix(issuer.Path, "/") + "/static/"},
		limits:  httpapi.NewLimits(cfg.RateLimits, d.Now),
		binding: binding.NewCookie(issuer.Scheme == "https"),
	}
	s.sessions = &sessions.Sessions{DB: d.DB, TTL: cfg.SessionTTL, Binding: s.binding, Metrics: d.Metrics, Log: d.Logger, Now: d.Now, CallbackURL: s.callbackURL}
	tokens := newTokenCrypto(cfg.CryptoKey, d.Keys)
	s.store = &store{db: d.DB, clients: d.Registry, keys: d.Keys, cfg: &s.cfg, now: d.Now, loginURL: s.loginURL, tokens: tokens, session: s.sessions.Login}
	if s.provider, err = s.newProvider(tokens); err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	if s.discovery, err = s.buildDiscovery(); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	s.core = signin.New(signin.Config{ChainIDs: cfg.ChainIDs, LoginTTL: cfg.AuthRequestTTL}, signin.Deps{
		Verifier: verifier, Clients: d.Registry, Tokens: s, Names: d.Names, Agents: d.Agents, Open: d.DB, Metrics: d.Metrics, Log: d.Logger, Now: d.Now,
	})
	s.apiKeys = apikeys.New(apikeys.Config{Store: d.DB, Clients: d.Registry, Log: d.Logger, Now: d.Now})
	s.handler = s.routes()
	return s, nil
}

// newProvider builds zitadel's provider over the store, with CORS limited
// to the clients' redirect origins.
func (s *Server) newProvider(tokens *tokenCrypto) (*zop.Provider, error) {
	zcfg := &zop.Config{
		CryptoKey:                s.cfg.CryptoKey,
		CryptoKeyId:              "signet-1",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          clients.KnownScopes(),
		SupportedClaims:          claims.Supported,
		DefaultLogoutRedirectURI: s.path("/logged-out"),
	}
	origins := clients.NewOrigins(s.clients, s.now, 10*time.Second)
	corsOpts := cors.Options{
		AllowOriginFunc:  origins.Allowed,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		AllowCredentials: false,
		MaxAge:           600,
	}
	s.cors = cors.New(corsOpts)
	// zitadel logs through slog's default logger; cmd/signet sets it.
	opts := []zop.Option{zop.WithCORSOptions(&corsOpts), zop.WithCrypto(tokens)}
	if s.cfg.Insecure {
		opts = append(opts, zop.WithAllowInsecure())
	}
	return zop.NewProvider(zcfg, s.store, zop.StaticIssuer(s.cfg.Issuer), opts...)
}

// ServeHTTP serves every endpoint below the issuer URL's path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// path is an absolute URL path under the issuer.
func (s *Server) path(p string) string {
	return strings.TrimSuffix(s.issuer.Path, "/") + p
}

// url is an absolute URL under the issuer.
func (s *Server) url(p string) string {
	return strings.TrimSuffix(s.cfg.Issuer, "/") + p
}

func (s *Server) loginURL(id string) string {
	return s.url("/login?authRequestID=" + url.QueryEscape(id))
}

// Sweep deletes expired challenges, requests and tokens.
func (s *Server) Sweep(ctx context.Context) (int64, error) {
	return s.db.Sweep(ctx, s.now())
}

// callbackURL is where a completed authorization request's browser goes
// to receive its code.
func (s *Server) callbackURL(authRequestID string) string {
	return s.url("/authorize/callback?id=" + url.QueryEscape(authRequestID))
}
