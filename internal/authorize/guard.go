// Package authorize guards the browser's way into the OpenID provider:
// /authorize, where a sign-in starts, and /authorize/callback, where its
// code is issued. Both are rate limited per caller; /authorize bounds its
// parameters, decides the client and redirect URI with Signet's own
// matcher before the provider sees them, and binds the request to the
// browser (package binding); the callback serves only that browser.
package authorize

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/storage"
)

// AuthRequests finds authorization requests; *storage.DB is one.
type AuthRequests interface {
	AuthRequestByID(ctx context.Context, id string) (*storage.AuthRequest, error)
}

// Guard holds what the guards need.
type Guard struct {
	Clients  signin.Clients
	Requests AuthRequests
	Binding  binding.Cookie
	Pages    *httpapi.Pages
	Limits   *httpapi.Limits
	Log      *slog.Logger
}

// Bounds on what /authorize accepts: every value is stored with the
// request and may be logged, so none may be attacker-sized.
const (
	maxAuthorizeParam     = 2 << 10 // bytes of any one parameter
	maxAuthorizeHintParam = 8 << 10 // bytes of id_token_hint, a whole ID token
	maxAuthorizeParams    = 40      // distinct parameter names
)

// checkParams reports the first parameter of an authorization
// request that is too long, or "" when all fit.
func checkParams(form url.Values) string {
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
				return "the " + httpapi.Truncate(name, 40) + " parameter is too long"
			}
		}
	}
	return ""
}

// Authorize guards the provider's /authorize: a per-IP rate limit,
// bounded parameters, and the browser-binding cookie.
func (g *Guard) Authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allow(w, r) {
			return
		}
		if err := r.ParseForm(); err != nil {
			g.Pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "The sign-in request is malformed (invalid_request). Start again from the app.")
			return
		}
		problem := checkParams(r.Form)
		if problem == "" {
			problem = g.checkClient(r.Context(), r.Form.Get("client_id"), r.Form.Get("redirect_uri"))
		}
		// Discovery advertises the query response mode only (OAuth 2.0
		// Multiple Response Type Encoding Practices §2.1); another one is
		// not answered in the mode it asks for.
		if rm := r.Form.Get("response_mode"); problem == "" && rm != "" && rm != "query" {
			problem = "response_mode must be query"
		}
		if problem != "" {
			g.Log.InfoContext(r.Context(), "authorization request refused", "request_id", httpapi.RequestID(r.Context()), "problem", problem)
			g.Pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "The sign-in request is not valid (invalid_request): "+problem+". Start again from the app.")
			return
		}
		v := g.Binding.Ensure(w, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bindingKey{}, v)))
	})
}

// checkClient says what is wrong with the client and redirect URI
// of an authorization request, or "" when nothing is. Neither may be
// answered with a redirect (RFC 6749 §4.1.2.1), and Signet's matcher is
// the one that decides (clients.Client.RedirectURIAllowed): exact strings,
// plus any port on a public client's loopback URI (RFC 8252 §7.3).
func (g *Guard) checkClient(ctx context.Context, clientID, redirectURI string) string {
	if clientID == "" {
		return "client_id is missing"
	}
	c, err := g.Clients.Get(ctx, clientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return "unknown client " + strconv.Quote(httpapi.Truncate(clientID, 64))
	}
	if err != nil {
		g.Log.ErrorContext(ctx, "authorize: client lookup", "request_id", httpapi.RequestID(ctx), "err", err)
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

// Callback guards the provider's /authorize/callback, which issues the
// code: only the browser that started the sign-in may call it.
func (g *Guard) Callback(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allow(w, r) {
			return
		}
		a, err := g.Requests.AuthRequestByID(r.Context(), r.URL.Query().Get("id"))
		switch {
		case errors.Is(err, storage.ErrNotFound):
			g.Pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "This sign-in request is unknown or expired (invalid_request). Start again from the app.")
			return
		case err != nil:
			g.Log.ErrorContext(r.Context(), "authorize callback", "request_id", httpapi.RequestID(r.Context()), "err", err)
			g.Pages.ErrorPage(w, http.StatusInternalServerError, "Cannot sign in", "Something went wrong on our side. Try again in a moment.")
			return
		case !g.Binding.Matches(r, a.BindingHash):
			g.Log.WarnContext(r.Context(), "authorize callback from another browser refused", "request_id", httpapi.RequestID(r.Context()), "client_id", a.ClientID)
			g.Pages.ErrorPage(w, http.StatusBadRequest, "Start again from the app", binding.OtherBrowser(a.RedirectURI))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bindingKey carries the browser's binding value from Authorize to the
// provider's storage, which stores its hash with the request.
type bindingKey struct{}

// BindingFromContext is the binding value Authorize put in the request's
// context ("" outside Authorize).
func BindingFromContext(ctx context.Context) string {
	v, _ := ctx.Value(bindingKey{}).(string)
	return v
}

// allow spends the caller's budget for the browser's pages (/authorize
// and its callback); when it is spent it answers 429 with a page.
func (g *Guard) allow(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := g.Limits.Allow(r, "")
	if !ok {
		secs := strconv.Itoa(httpapi.RetryAfter(wait))
		w.Header().Set("Retry-After", secs)
		g.Pages.ErrorPage(w, http.StatusTooManyRequests, "Too many requests", "Too many sign-in attempts from your network. Wait "+secs+" seconds and try again.")
	}
	return ok
}
