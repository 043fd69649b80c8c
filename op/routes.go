package op

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/authorize"
	"github.com/signet-id/signet/internal/bearer"
	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/demo"
	"github.com/signet-id/signet/internal/headless"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/login"
	"github.com/signet-id/signet/internal/profiles/defimara"
	"github.com/signet-id/signet/internal/profiles/dob"
	"github.com/signet-id/signet/internal/profiles/reppo"
	"github.com/signet-id/signet/internal/profiles/siwa"
	"github.com/signet-id/signet/web"
)

// routes is the router: zitadel's endpoints behind Signet's guards, and one
// line per sign-in surface.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	// Sign-in surfaces: each is a package of its own over signin.Core.
	(&login.Page{
		Core: s.core, Requests: s.db, Clients: s.clients, Binding: s.binding, Pages: s.pages, Limits: s.limits,
		Log: s.log, Now: s.now, ChainIDs: s.cfg.ChainIDs, Path: s.path("/login"), Sessions: s.loginSessions(), CallbackURL: s.callbackURL,
	}).Register(mux)
	(&headless.API{Core: s.core, Limits: s.limits, Log: s.log, Domain: s.issuer.Host, URI: s.cfg.Issuer}).Register(mux)
	// API keys: a wallet's, made with its access token (op/apikeys.go checks them at introspection and exchange).
	keys := &apikeys.API{Keys: s.apiKeys, Verifier: bearer.New(s.keys, s.cfg.Issuer, s.now), Issued: s.db, Limits: s.limits, Log: s.log, Wrap: s.cors.Handler}
	keys.Register(mux)
	// Wire profiles: one line per profile package.
	signIn := compat.SignIn{Core: s.core, Limits: s.limits, Log: s.log}
	profiles := map[string]http.Handler{
		"siwa": siwa.New(siwa.Config{SignIn: signIn, Keys: s.keys, Issuer: s.cfg.Issuer, Now: s.now}),
		// Agent logins that hand out Signet's own EIP-4361 text to sign.
		"defimara": defimara.New(signIn),
		"reppo":    reppo.New(signIn),
		// DobProtocol's agent login, for Ethereum and Stellar wallets, and its API keys.
		"dob": dob.New(dob.Config{SignIn: signIn, Keys: keys, Now: s.now}),
	}
	mux.Handle(compat.Prefix, &compat.Router{Clients: s.clients, Profiles: profiles, Log: s.log})
	if s.cfg.Demo {
		demo.New(s.cfg.Issuer, s.path("/demo"), s.cfg.CryptoKey[:], s.pages, s.log).Register(mux)
		// In dev mode the issuer's root is where a newcomer lands: the demo.
		mux.Handle("GET /{$}", http.RedirectHandler(s.path("/demo"), http.StatusFound))
	}

	// The OpenID provider.
	mux.Handle("GET /.well-known/openid-configuration", s.cors.Handler(http.HandlerFunc(s.handleDiscovery)))
	mux.Handle("GET /keys", s.cors.Handler(http.HandlerFunc(s.handleJWKS)))
	guard := &authorize.Guard{Clients: s.clients, Requests: s.db, Binding: s.binding, Pages: s.pages, Limits: s.limits, Log: s.log}
	mux.Handle("/authorize", guard.Authorize(s.authorizeResponses(s.provider)))
	mux.Handle("/authorize/callback", guard.Callback(s.authorizeResponses(s.provider)))
	keyEndpoints := &apikeys.Endpoints{Keys: s.apiKeys, Clients: s.clients, Tokens: s, Issuer: s.cfg.Issuer, Log: s.log}
	mux.Handle("POST /oauth/token", s.timeIssuance(httpapi.OAuthErrors(s.log, keyEndpoints.Exchange(s.provider))))
	mux.Handle("/oauth/introspect", httpapi.OAuthErrors(s.log, httpapi.FormCredentialsAsBasic(keyEndpoints.Introspection(s.provider))))
	mux.Handle("/revoke", httpapi.OAuthErrors(s.log, s.provider))
	mux.Handle("/end_session", s.sessions.EndOnLogout(httpapi.OAuthErrors(s.log, s.provider)))
	mux.Handle("/userinfo", httpapi.BearerErrors(s.log, s.provider))
	mux.Handle("/", s.provider)

	// Pages and operations.
	mux.Handle("GET /logged-out", http.HandlerFunc(s.handleLoggedOut))
	mux.Handle("GET /static/", http.StripPrefix("/static/", web.Static()))
	mux.Handle("GET /healthz", http.HandlerFunc(s.handleHealth))
	mux.Handle("GET /ready", http.HandlerFunc(s.handleReady))
	if !s.cfg.MetricsElsewhere {
		mux.Handle("GET /metrics", s.metrics.Handler())
	}

	var h http.Handler = mux
	if p := strings.TrimSuffix(s.issuer.Path, "/"); p != "" {
		h = http.StripPrefix(p, h)
	}
	mw := httpapi.Middleware{Log: s.log, Metrics: s.metrics, Prefix: s.issuer.Path, Routes: knownRoutes}
	return mw.Wrap(h)
}

// knownRoutes bound the "route" metric label to a fixed set.
var knownRoutes = []string{
	"/.well-known/openid-configuration", "/keys", "/authorize/callback", "/authorize", "/oauth/token",
	"/oauth/introspect", "/userinfo", "/revoke", "/end_session", "/login/challenge", "/login/verify", "/login/continue",
	"/login", "/auth/web3/generate_challenge", "/auth/web3/submit_challenge", "/auth/nonce", "/auth/verify",
	"/static/", "/demo", "/healthz", "/ready", "/metrics", "/compat/", "/api/keys",
}

// timeIssuance records the latency of successful token endpoint answers.
func (s *Server) timeIssuance(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &httpapi.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.Code() == http.StatusOK {
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
	s.pages.ErrorPage(w, http.StatusOK, "Signed out", "You have been signed out. You can close this page.")
}

// loginSessions is what the login page offers single sign-on through; nil
// when sessions are off.
func (s *Server) loginSessions() login.Sessions {
	if !s.sessions.On() {
		return nil
	}
	return s.sessions
}
