package op

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/random"
)

// knownRoutes bounds the "route" metric label to a fixed set.
var knownRoutes = []string{
	"/.well-known/openid-configuration", "/keys", "/authorize/callback", "/authorize", "/oauth/token",
	"/oauth/introspect", "/userinfo", "/revoke", "/end_session", "/login/challenge", "/login/verify",
	"/login", "/auth/web3/generate_challenge", "/auth/web3/submit_challenge", "/auth/nonce", "/auth/verify",
	"/static/", "/demo", "/healthz", "/ready", "/metrics",
}

func routeOf(path string) string {
	for _, r := range knownRoutes {
		if path == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(path, r)) || strings.HasPrefix(path, r+"/") {
			return r
		}
	}
	return "other"
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware gives each request an ID, recovers panics into a generic
// server_error, logs, and counts.
func (s *Server) middleware(next http.Handler) http.Handler {
	prefix := strings.TrimSuffix(s.issuer.Path, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = random.Base64(12)
		}
		w.Header().Set("X-Request-ID", id)
		ctx := httpapi.WithRequestID(r.Context(), id)
		r = r.WithContext(ctx)
		sw := &statusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, httpapi.MaxBody)
		if r.Method == http.MethodPost { // what writes sign-ins and tokens
			defer s.db.Expect()() // lets SQLite's writer gather concurrent writes
		}
		defer func() {
			if v := recover(); v != nil {
				s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", v)
				if sw.code == 0 {
					httpapi.WriteError(sw, http.StatusInternalServerError, "server_error", "internal error", false)
				}
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			route := routeOf(strings.TrimPrefix(r.URL.Path, prefix))
			elapsed := time.Since(start)
			s.metrics.ObserveRequest(route, code, elapsed)
			level := slog.LevelDebug
			if code >= 500 {
				level = slog.LevelError
			}
			if s.log.Enabled(ctx, level) { // skip building the record on the hot path
				s.log.Log(ctx, level, "http request", "request_id", id, "method", r.Method,
					"route", route, "status", code, "duration_ms", float64(elapsed.Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
