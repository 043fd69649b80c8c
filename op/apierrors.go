package op

import (
	"bytes"
	"mime"
	"net/http"

	"github.com/signet-id/signet/internal/httpapi"
)

// zitadel answers some bad input on its API endpoints with plain text that
// carries Go error text (the introspection endpoint's client check), a 500
// (a malformed query at /end_session), or a 401 without WWW-Authenticate
// (/userinfo). These wrappers make every such answer a 4xx with a JSON
// body in the endpoint's own standard: RFC 6749 §5.2 for the client-facing
// endpoints, RFC 6750 §3 for /userinfo.

// errorCapture holds back an error answer (status ≥ 400) so that the
// wrapper can replace it; other answers pass through.
type errorCapture struct {
	http.ResponseWriter
	wrote    bool
	captured bool
	status   int
	body     bytes.Buffer
}

func (c *errorCapture) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	if code >= 400 {
		c.captured, c.status = true, code
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *errorCapture) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.captured {
		return c.body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

func (c *errorCapture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// isJSON reports whether a captured answer is already JSON (zitadel's
// RFC 6749 error bodies, which carry only the code and a safe description).
func (c *errorCapture) isJSON() bool {
	mt, _, _ := mime.ParseMediaType(c.Header().Get("Content-Type"))
	return mt == "application/json"
}

// oauthErrors wraps a client-facing endpoint (token, introspection,
// revocation, end session): a malformed query or form is refused before
// zitadel reads it, and a non-JSON error answer is replaced by RFC 6749
// §5.2 JSON (401 invalid_client for failed client authentication).
func (s *Server) oauthErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, "invalid_request", "the request's query or form is malformed", false)
			return
		}
		c := &errorCapture{ResponseWriter: w}
		next.ServeHTTP(c, r)
		switch {
		case !c.captured:
		case c.isJSON() && c.status < 500:
			if c.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="signet"`)
			}
			w.WriteHeader(c.status)
			_, _ = c.body.WriteTo(w)
		case c.status >= 500:
			s.log.ErrorContext(r.Context(), "request failed", "request_id", httpapi.RequestID(r.Context()), "path", r.URL.Path, "status", c.status, "body", truncate(c.body.String(), 200))
			w.Header().Del("Content-Type")
			httpapi.WriteError(w, http.StatusInternalServerError, "server_error", "internal error", false)
		case c.status == http.StatusUnauthorized:
			w.Header().Del("Content-Type")
			httpapi.WriteError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed", false)
		default:
			w.Header().Del("Content-Type")
			httpapi.WriteError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", false)
		}
	})
}

// userinfoErrors wraps /userinfo: a missing, invalid or inactive access
// token is 401 with WWW-Authenticate (RFC 6750 §3), and the body is JSON.
func (s *Server) userinfoErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			httpapi.WriteError(w, http.StatusBadRequest, "invalid_request", "the request's query or form is malformed", false)
			return
		}
		if r.Header.Get("Authorization") == "" && r.Form.Get("access_token") == "" {
			// RFC 6750 §3.1: no error code when no credentials were sent.
			w.Header().Set("WWW-Authenticate", `Bearer realm="signet"`)
			httpapi.WriteError(w, http.StatusUnauthorized, "invalid_token", "an access token is required (Authorization: Bearer …)", false)
			return
		}
		c := &errorCapture{ResponseWriter: w}
		next.ServeHTTP(c, r)
		switch {
		case !c.captured:
		case c.status >= 500:
			s.log.ErrorContext(r.Context(), "userinfo failed", "request_id", httpapi.RequestID(r.Context()), "status", c.status)
			w.Header().Del("Content-Type")
			httpapi.WriteError(w, http.StatusInternalServerError, "server_error", "internal error", false)
		default:
			w.Header().Del("Content-Type")
			w.Header().Set("WWW-Authenticate", `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid, expired or revoked"`)
			httpapi.WriteError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked", false)
		}
	})
}
