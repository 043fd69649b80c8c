package op

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/rs/cors"
	zop "github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
	"github.com/signet-id/signet/web"
)

// Config is what the provider needs to know; cmd/signet fills it from the
// operator's configuration.
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
	// RateLimits bounds the challenge and verify endpoints.
	RateLimits RateLimits
	// CryptoKey encrypts zitadel's opaque values; it must be the same on
	// every replica (see LoadCryptoKey).
	CryptoKey [32]byte
	// MetricsElsewhere leaves /metrics off the provider's handler: the
	// operator serves Metrics.Handler on a listener of its own.
	MetricsElsewhere bool
}

// DefaultConfig returns SPEC's defaults for issuer.
func DefaultConfig(issuer string) Config {
	return Config{
		Issuer:          issuer,
		ChainIDs:        []int64{1},
		AuthRequestTTL:  15 * time.Minute,
		CodeTTL:         60 * time.Second,
		AccessTokenTTL:  time.Hour,
		IDTokenTTL:      time.Hour,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		ChallengeTTL:    5 * time.Minute,
		RateLimits:      RateLimits{PerIP: 120, PerAddress: 30, Window: time.Minute},
	}
}

// Server is the OpenID provider with Signet's login, headless and
// operational endpoints, as one http.Handler.
type Server struct {
	cfg      Config
	db       *storage.DB
	clients  lookupClients
	siwe     *siwe.Verifier
	keys     *KeyRing
	pages    *web.Pages
	log      *slog.Logger
	now      func() time.Time
	metrics  *Metrics
	names    NameResolver
	provider *zop.Provider
	origins  *originSet
	issuer   *url.URL
	handler  http.Handler
	demo     *demoApp
	store    *store

	ipLimit   *limiter
	addrLimit *limiter
	discovery cachedDocument
	cors      *cors.Cors
}

// Deps are the parts the server is built from.
type Deps struct {
	DB       *storage.DB
	Registry *clients.Registry
	Keys     *KeyRing
	Logger   *slog.Logger
	Metrics  *Metrics
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Signatures checks SIWE signatures; nil means plain EOA recovery.
	Signatures siwe.SignatureChecker
	// Names finds an account's primary ENS name for preferred_username; nil
	// means the address is the username.
	Names NameResolver
}

// NameResolver finds an address's verified primary name ("" for none).
type NameResolver interface {
	Name(ctx context.Context, addr common.Address) (string, error)
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
		d.Metrics = NewMetrics(nil)
	}
	opts := []siwe.Option{siwe.WithClock(d.Now), siwe.WithDelegates(delegates{clients: lookupClients{d.Registry}})}
	if d.Signatures != nil {
		opts = append(opts, siwe.WithSignatureChecker(d.Signatures))
	}
	verifier, err := siwe.NewVerifier(siwe.Config{
		Domain:   issuer.Host,
		URI:      cfg.Issuer,
		ChainIDs: cfg.ChainIDs,
		Lifetime: cfg.ChallengeTTL,
	}, d.DB, opts...)
	if err != nil {
		return nil, fmt.Errorf("siwe: %w", err)
	}
	pages, err := web.New()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: d.DB, siwe: verifier, keys: d.Keys,
		pages: pages, log: d.Logger, now: d.Now, metrics: d.Metrics, issuer: issuer, names: d.Names,
	}
	s.origins = newOriginSet(d.Registry, d.Now, 10*time.Second)
	s.clients = lookupClients{d.Registry}
	tokens := newTokenCrypto(cfg.CryptoKey, d.Keys)
	st := &store{db: d.DB, clients: s.clients, keys: d.Keys, cfg: &s.cfg, now: d.Now, loginURL: s.loginURL, tokens: tokens}
	s.store = st
	s.ipLimit = newLimiter(cfg.RateLimits.PerIP, cfg.RateLimits.Window, d.Now)
	s.addrLimit = newLimiter(cfg.RateLimits.PerAddress, cfg.RateLimits.Window, d.Now)
	zcfg := &zop.Config{
		CryptoKey:                cfg.CryptoKey,
		CryptoKeyId:              "signet-1",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		SupportedScopes:          []string{"openid", "profile", "email", "offline_access", ScopeSIWE},
		SupportedClaims:          []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "amr", "azp", "preferred_username", ClaimAddress, ClaimChainID, ClaimSIWEMessage, ClaimSIWESignature, ClaimSigner},
		DefaultLogoutRedirectURI: s.path("/logged-out"),
	}
	corsOpts := cors.Options{
		AllowOriginFunc:  s.origins.allowed,
		AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowedHeaders:   []string{"Authorization", "Content-Type"},
		AllowCredentials: false,
		MaxAge:           600,
	}
	s.cors = cors.New(corsOpts)
	// zitadel logs through slog's default logger; cmd/signet sets it.
	zopts := []zop.Option{zop.WithCORSOptions(&corsOpts), zop.WithCrypto(tokens)}
	if cfg.Insecure {
		zopts = append(zopts, zop.WithAllowInsecure())
	}
	s.provider, err = zop.NewProvider(zcfg, st, zop.StaticIssuer(cfg.Issuer), zopts...)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	if s.discovery, err = s.buildDiscovery(); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if cfg.Demo {
		s.demo = newDemoApp(s)
	}
	s.handler = s.routes()
	return s, nil
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

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	interceptor := zop.NewIssuerInterceptor(s.provider.IssuerFromRequest)
	mux.Handle("GET /login", interceptor.HandlerFunc(s.handleLoginPage))
	mux.Handle("POST /login/challenge", interceptor.HandlerFunc(s.handleLoginChallenge))
	mux.Handle("POST /login/verify", interceptor.HandlerFunc(s.handleLoginVerify))
	mux.Handle("POST /auth/web3/generate_challenge", http.HandlerFunc(s.handleGenerateChallenge))
	mux.Handle("POST /auth/web3/submit_challenge", http.HandlerFunc(s.handleSubmitChallenge))
	mux.Handle("POST /auth/nonce", http.HandlerFunc(s.handleNonce))
	mux.Handle("POST /auth/verify", http.HandlerFunc(s.handleVerify))
	mux.Handle("GET /logged-out", http.HandlerFunc(s.handleLoggedOut))
	mux.Handle("GET /static/", http.StripPrefix("/static/", web.Static()))
	mux.Handle("GET /.well-known/openid-configuration", s.cors.Handler(http.HandlerFunc(s.handleDiscovery)))
	mux.Handle("GET /keys", s.cors.Handler(http.HandlerFunc(s.handleJWKS)))
	mux.Handle("GET /healthz", http.HandlerFunc(s.handleHealth))
	mux.Handle("GET /ready", http.HandlerFunc(s.handleReady))
	if !s.cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}
	if s.demo != nil {
		mux.Handle("GET /demo", http.HandlerFunc(s.demo.home))
		mux.Handle("GET /demo/start", http.HandlerFunc(s.demo.start))
		mux.Handle("GET /demo/callback", http.HandlerFunc(s.demo.callback))
	}
	mux.Handle("POST /oauth/token", s.timeIssuance(s.oauthErrors(s.provider)))
	mux.Handle("/oauth/introspect", s.oauthErrors(s.provider))
	mux.Handle("/revoke", s.oauthErrors(s.provider))
	mux.Handle("/end_session", s.oauthErrors(s.provider))
	mux.Handle("/userinfo", s.userinfoErrors(s.provider))
	mux.Handle("/authorize", s.authorizeEndpoint(s.provider))
	mux.Handle("/authorize/callback", s.callbackEndpoint(s.provider))
	mux.Handle("/", s.provider)
	var h http.Handler = mux
	if p := strings.TrimSuffix(s.issuer.Path, "/"); p != "" {
		h = http.StripPrefix(p, h)
	}
	return s.middleware(h)
}

// timeIssuance records the latency of successful token endpoint answers.
func (s *Server) timeIssuance(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.code == http.StatusOK {
			s.metrics.ObserveIssue(time.Since(start))
		}
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// handleReady answers 200 when the database answers and a signing key is usable.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.db.Ping(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: database", "err", err)
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	if _, err := s.keys.SigningKey(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready: signing key", "err", err)
		http.Error(w, "no signing key", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("ready\n"))
}

func (s *Server) handleLoggedOut(w http.ResponseWriter, _ *http.Request) {
	setPageHeaders(w)
	_ = s.pages.Error(w, web.ErrorData{Title: "Signed out", Message: "You have been signed out. You can close this page.", StaticURL: s.path("/static/")})
}

// Sweep deletes expired challenges, requests and tokens.
func (s *Server) Sweep(ctx context.Context) (int64, error) {
	return s.db.Sweep(ctx, s.now())
}
