package op

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/storage"
)

// Bounds on what /authorize accepts: every value is stored with the
// request and may be logged, so none may be attacker-sized.
const (
	maxAuthorizeParam     = 2 << 10 // bytes of any one parameter
	maxAuthorizeHintParam = 8 << 10 // bytes of id_token_hint, a whole ID token
	maxAuthorizeParams    = 40      // distinct parameter names
)

// checkAuthorizeParams reports the first parameter of an authorization
// request that is too long, or "" when all fit.
func checkAuthorizeParams(form url.Values) string {
	if len(form) > maxAuthorizeParams {
		return "too many parameters"
	}
	for name, values := range form {
		limit := maxAuthorizeParam
		if name == "id_token_hint" {
			limit = maxAuthorizeHintParam
		}
		if len(name) > maxAuthorizeParam || len(values) > 1 && name != "resource" {
			return "parameters must not repeat"
		}
		for _, v := range values {
			if len(v) > limit {
				return "the " + truncate(name, 40) + " parameter is too long"
			}
		}
	}
	return ""
}

// authorizeEndpoint guards zitadel's /authorize: a per-IP rate limit,
// bounded parameters, and the browser-binding cookie.
func (s *Server) authorizeEndpoint(next http.Handler) http.Handler {
	inner := s.authorizeResponses(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowPage(w, r) {
			return
		}
		if err := r.ParseForm(); err != nil {
			s.pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "The sign-in request is malformed (invalid_request). Start again from the app.")
			return
		}
		problem := checkAuthorizeParams(r.Form)
		if problem == "" {
			problem = s.checkAuthorizeClient(r.Context(), r.Form.Get("client_id"), r.Form.Get("redirect_uri"))
		}
		// Discovery advertises the query response mode only (OAuth 2.0
		// Multiple Response Type Encoding Practices §2.1); another one is
		// not answered in the mode it asks for.
		if rm := r.Form.Get("response_mode"); problem == "" && rm != "" && rm != "query" {
			problem = "response_mode must be query"
		}
		if problem != "" {
			s.log.InfoContext(r.Context(), "authorization request refused", "request_id", httpapi.RequestID(r.Context()), "problem", problem)
			s.pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "The sign-in request is not valid (invalid_request): "+problem+". Start again from the app.")
			return
		}
		binding := s.binding.Ensure(w, r)
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bindingKey{}, binding)))
	})
}

// checkAuthorizeClient says what is wrong with the client and redirect URI
// of an authorization request, or "" when nothing is. Neither may be
// answered with a redirect (RFC 6749 §4.1.2.1), and Signet's matcher is
// the one that decides (clients.Client.RedirectURIAllowed): exact strings,
// plus any port on a public client's loopback URI (RFC 8252 §7.3).
func (s *Server) checkAuthorizeClient(ctx context.Context, clientID, redirectURI string) string {
	if clientID == "" {
		return "client_id is missing"
	}
	c, err := s.clients.Get(ctx, clientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return "unknown client " + strconv.Quote(truncate(clientID, 64))
	}
	if err != nil {
		s.log.ErrorContext(ctx, "authorize: client lookup", "request_id", httpapi.RequestID(ctx), "err", err)
		return "the app could not be looked up; try again in a moment"
	}
	if redirectURI == "" {
		return "redirect_uri is missing"
	}
	if !c.RedirectURIAllowed(redirectURI) {
		return "redirect_uri is not registered for this app"
	}
	return ""
}

// callbackEndpoint guards zitadel's /authorize/callback, which issues the
// code: only the browser that started the sign-in may call it.
func (s *Server) callbackEndpoint(next http.Handler) http.Handler {
	inner := s.authorizeResponses(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowPage(w, r) {
			return
		}
		a, err := s.db.AuthRequestByID(r.Context(), r.URL.Query().Get("id"))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			s.pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "This sign-in request is unknown or expired (invalid_request). Start again from the app.")
			return
		case err != nil:
			s.log.ErrorContext(r.Context(), "authorize callback", "request_id", httpapi.RequestID(r.Context()), "err", err)
			s.pages.ErrorPage(w, http.StatusInternalServerError, "Cannot sign in", "Something went wrong on our side. Try again in a moment.")
			return
		case !s.binding.Matches(r, a.BindingHash):
			s.log.WarnContext(r.Context(), "authorize callback from another browser refused", "request_id", httpapi.RequestID(r.Context()), "client_id", a.ClientID)
			s.pages.ErrorPage(w, http.StatusBadRequest, "Start again from the app", binding.OtherBrowser(a.RedirectURI))
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// bindingKey carries the browser's binding value from authorizeEndpoint
// to CreateAuthRequest, which stores its hash.
type bindingKey struct{}

// bindingFromContext is the value authorizeEndpoint put in ctx.
func bindingFromContext(ctx context.Context) string {
	v, _ := ctx.Value(bindingKey{}).(string)
	return v
}

// allowPage spends the caller's budget for the browser's pages (/authorize
// and its callback); when it is spent it answers 429 with a page.
func (s *Server) allowPage(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := s.limits.Allow(r, "")
	if !ok {
		secs := strconv.Itoa(httpapi.RetryAfter(wait))
		w.Header().Set("Retry-After", secs)
		s.pages.ErrorPage(w, http.StatusTooManyRequests, "Too many requests", "Too many sign-in attempts from your network. Wait "+secs+" seconds and try again.")
	}
	return ok
}

// authorizeResponses wraps zitadel's authorization endpoints:
//   - it adds "iss" to authorization responses redirected to a client
//     (RFC 9207 §2), which zitadel leaves out;
//   - it replaces zitadel's plain-text error answers (which carry Go error
//     text) with Signet's error page, keeping only the OAuth description.
func (s *Server) authorizeResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		aw := &authorizeWriter{ResponseWriter: w, issuer: s.cfg.Issuer, loginPrefix: s.url("/login")}
		next.ServeHTTP(aw, r)
		if aw.captured {
			title, desc := "Cannot sign in", describeZitadelError(aw.body.String())
			s.log.InfoContext(r.Context(), "authorization request refused", "request_id", httpapi.RequestID(r.Context()), "status", aw.status, "description", truncate(desc, 200))
			s.pages.ErrorPage(w, aw.status, title, desc)
		}
	})
}

// truncate shortens s to at most n bytes, marking the cut; it never
// splits a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

type authorizeWriter struct {
	http.ResponseWriter
	issuer      string
	loginPrefix string
	wrote       bool
	captured    bool
	status      int
	body        bytes.Buffer
}

func (w *authorizeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	switch {
	case code == http.StatusFound || code == http.StatusSeeOther:
		w.addIss()
	case code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain"):
		w.captured, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *authorizeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.captured {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *authorizeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addIss appends iss to a redirect that carries an authorization response
// (code or error) in its query, and leaves redirects to the login page alone.
func (w *authorizeWriter) addIss() {
	loc := w.Header().Get("Location")
	if loc == "" || strings.HasPrefix(loc, w.loginPrefix) {
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	q := u.Query()
	if (q.Get("code") == "" && q.Get("error") == "") || q.Has("iss") {
		return
	}
	q.Set("iss", w.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
}

// describeZitadelError keeps the OAuth description of zitadel's error text
// ("ErrorType=… Description=… Parent=…") and drops the Go error behind it.
func describeZitadelError(text string) string {
	_, desc, ok := strings.Cut(text, "Description=")
	if !ok {
		return "The sign-in request is not valid. Start again from the app."
	}
	desc, _, _ = strings.Cut(desc, " Parent=")
	return strings.TrimSpace(desc)
}
