package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
)

// The OpenID provider (zitadel) answers some bad input on its API endpoints with plain text that
// carries Go error text (the introspection endpoint's client check), a 500
// (a malformed query at /end_session), or a 401 without WWW-Authenticate
// (/userinfo). These wrappers make every such answer a 4xx with a JSON
// body in the endpoint's own standard: RFC 6749 §5.2 for the client-facing
// endpoints, RFC 6750 §3 for /userinfo.

// OAuthErrors wraps a client-facing endpoint (token, introspection,
// revocation, end session): a malformed query or form is refused before
// zitadel reads it, and a non-JSON error answer is replaced by RFC 6749
// §5.2 JSON (401 invalid_client for failed client authentication).
func OAuthErrors(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			WriteError(w, http.StatusBadRequest, "invalid_request", "the request's query or form is malformed", false)
			return
		}
		c := &Capture{ResponseWriter: w}
		next.ServeHTTP(c, r)
		switch {
		case !c.Captured:
		case c.IsJSON() && c.Status < 500:
			if c.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="signet"`)
			}
			w.WriteHeader(c.Status)
			_, _ = c.Body.WriteTo(w)
		case c.Status >= 500:
			log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "path", r.URL.Path, "status", c.Status, "body", Truncate(c.Body.String(), 200))
			w.Header().Del("Content-Type")
			WriteError(w, http.StatusInternalServerError, "server_error", "internal error", false)
		case c.Status == http.StatusUnauthorized:
			w.Header().Del("Content-Type")
			WriteError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed", false)
		default:
			w.Header().Del("Content-Type")
			WriteError(w, http.StatusBadRequest, "invalid_request", "the request is not valid", false)
		}
	})
}

// FormCredentialsAsBasic lets the introspection endpoint take the client
// authentication methods the token endpoint takes (RFC 7662 §2.1 leaves
// them to the server): zitadel reads only HTTP Basic there, so
// client_id and client_secret sent in the body (client_secret_post, the
// default of openid-client) are handed to it as Basic credentials, which it
// then checks as any others.
func FormCredentialsAsBasic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, basic := r.BasicAuth(); !basic && r.ParseForm() == nil && r.PostForm.Get("client_secret") != "" {
			r.SetBasicAuth(url.QueryEscape(r.PostForm.Get("client_id")), url.QueryEscape(r.PostForm.Get("client_secret")))
		}
		next.ServeHTTP(w, r)
	})
}

// BearerErrors wraps /userinfo: a missing, invalid or inactive access
// token is 401 with WWW-Authenticate (RFC 6750 §3), and the body is JSON.
func BearerErrors(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			WriteError(w, http.StatusBadRequest, "invalid_request", "the request's query or form is malformed", false)
			return
		}
		if r.Header.Get("Authorization") == "" && r.Form.Get("access_token") == "" {
			// RFC 6750 §3.1: no error code when no credentials were sent.
			w.Header().Set("WWW-Authenticate", `Bearer realm="signet"`)
			WriteError(w, http.StatusUnauthorized, "invalid_token", "an access token is required (Authorization: Bearer …)", false)
			return
		}
		c := &Capture{ResponseWriter: w}
		next.ServeHTTP(c, r)
		switch {
		case !c.Captured:
		case c.Status >= 500:
			log.ErrorContext(r.Context(), "userinfo failed", "request_id", RequestID(r.Context()), "status", c.Status)
			w.Header().Del("Content-Type")
			WriteError(w, http.StatusInternalServerError, "server_error", "internal error", false)
		default:
			w.Header().Del("Content-Type")
			w.Header().Set("WWW-Authenticate", `Bearer realm="signet", error="invalid_token", error_description="the access token is invalid, expired or revoked"`)
			WriteError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked", false)
		}
	})
}
