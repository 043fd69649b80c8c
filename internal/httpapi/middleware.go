package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/metrics"
	"github.com/signet-id/signet/internal/random"
)

// Middleware gives each request an ID (the caller's X-Request-ID, or a new
// one), bounds its body, recovers a panic into a generic server_error,
// logs, and counts it by route.
type Middleware struct {
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Prefix is the issuer's URL path, which Routes do not repeat.
	Prefix string
	// Routes bound the "route" metric label to a fixed set; a path is
	// counted under the first route it equals or lies under.
	Routes []string
}

func (m Middleware) routeOf(path string) string {
	for _, r := range m.Routes {
		if path == r || (strings.HasSuffix(r, "/") && strings.HasPrefix(path, r)) || strings.HasPrefix(path, r+"/") {
			return r
		}
	}
	return "other"
}

// StatusWriter remembers the status a handler answered with.
type StatusWriter struct {
	http.ResponseWriter
	code int
}

// Code is the status written so far (0 before anything was).
func (w *StatusWriter) Code() int { return w.code }

func (w *StatusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Wrap returns next behind the middleware.
func (m Middleware) Wrap(next http.Handler) http.Handler {
	prefix := strings.TrimSuffix(m.Prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 64 {
			id = random.Base64(12)
		}
		w.Header().Set("X-Request-ID", id)
		ctx := WithRequestID(r.Context(), id)
		r = r.WithContext(ctx)
		sw := &StatusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, MaxBody)
		defer func() {
			if v := recover(); v != nil {
				m.Log.ErrorContext(ctx, "panic", "request_id", id, "panic", v)
				if sw.code == 0 {
					WriteError(sw, http.StatusInternalServerError, "server_error", "internal error", false)
				}
			}
			code := sw.code
			if code == 0 {
				code = http.StatusOK
			}
			route := m.routeOf(strings.TrimPrefix(r.URL.Path, prefix))
			elapsed := time.Since(start)
			m.Metrics.ObserveRequest(route, code, elapsed)
			level := slog.LevelDebug
			if code >= 500 {
				level = slog.LevelError
			}
			if m.Log.Enabled(ctx, level) { // skip building the record on the hot path
				m.Log.Log(ctx, level, "http request", "request_id", id, "method", r.Method,
					"route", route, "status", code, "duration_ms", float64(elapsed.Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
