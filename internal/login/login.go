// Package login serves the browser sign-in: the page that names the app
// and asks the person's wallet to sign (GET /login), and its two JSON
// endpoints, /login/challenge and /login/verify. Every step belongs to the
// browser that started the authorization request (package binding).
package login

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/storage"
	"github.com/signet-id/signet/web"
)

// AuthRequests finds the authorization requests the page completes;
// *storage.DB is one.
type AuthRequests interface {
	AuthRequestByID(ctx context.Context, id string) (*storage.AuthRequest, error)
}

// Sessions is single sign-on: a browser's earlier sign-in, kept by the
// provider, that an authorization request may use without a new signature.
type Sessions interface {
	// SessionAccount returns the account the browser's session would sign a
	// in as, when a may use it.
	SessionAccount(ctx context.Context, a *storage.AuthRequest) (*storage.Login, bool)
	// ContinueSession completes a with the session and returns where the
	// browser goes next.
	ContinueSession(ctx context.Context, a *storage.AuthRequest) (string, error)
}

// Page serves the login page and its JSON endpoints.
type Page struct {
	Core     *signin.Core
	Requests AuthRequests
	Clients  signin.Clients
	Binding  binding.Cookie
	Pages    *httpapi.Pages
	Limits   *httpapi.Limits
	Log      *slog.Logger
	Now      func() time.Time
	// ChainIDs are the chains the page may ask the wallet for; the first is preferred.
	ChainIDs []int64
	// Path is the absolute URL path of the page, e.g. "/login".
	Path string
	// Sessions offers "Continue as …"; nil when the provider keeps none.
	Sessions Sessions
	// CallbackURL is where a completed request's browser goes for its code.
	CallbackURL func(authRequestID string) string
}

// Register adds the page and its endpoints to mux, under p.Path.
func (p *Page) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", p.page)
	mux.HandleFunc("POST /login/challenge", p.challenge)
	mux.HandleFunc("POST /login/verify", p.verify)
	mux.HandleFunc("POST /login/continue", p.continueSession)
}

// errOtherBrowser answers a step of a sign-in that another browser started.
var errOtherBrowser = httpapi.BadRequest("this sign-in was started in another browser; start again from the app in this browser")

// errCompleted answers a step of a sign-in that is already complete.
var errCompleted = httpapi.BadRequest("this sign-in request was already completed")

// pending loads an authorization request that still waits for a sign-in
// in this browser; errOtherBrowser (with the request) when another browser
// started it.
func (p *Page) pending(r *http.Request, id string) (*storage.AuthRequest, error) {
	if id == "" {
		return nil, httpapi.BadRequest("authRequestID is required")
	}
	a, err := p.Requests.AuthRequestByID(r.Context(), id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, httpapi.BadRequest("unknown authorization request; start the sign-in again from the app")
	case err != nil:
		return nil, err
	case !p.Now().Before(a.ExpiresAt):
		return nil, httpapi.BadRequest("this sign-in request expired; start again from the app")
	case !p.Binding.Matches(r, a.BindingHash):
		return a, errOtherBrowser
	case a.Login != nil:
		return a, errCompleted
	}
	return a, nil
}

// page renders the sign-in page for an authorization request.
func (p *Page) page(w http.ResponseWriter, r *http.Request) {
	a, err := p.pending(r, r.URL.Query().Get("authRequestID"))
	if err == errOtherBrowser {
		p.Pages.ErrorPage(w, http.StatusBadRequest, "Start again from the app", binding.OtherBrowser(a.RedirectURI))
		return
	}
	if err == errCompleted && !a.CodeIssued && p.CallbackURL != nil {
		// Completed by single sign-on (prompt=none), or signed a moment
		// ago: on to the callback, which issues the code.
		http.Redirect(w, r, p.CallbackURL(a.ID), http.StatusFound)
		return
	}
	if err != nil {
		e := httpapi.From(err)
		httpapi.Log(p.Log, r, e)
		p.Pages.ErrorPage(w, e.Status, "Cannot sign in", e.Description)
		return
	}
	c, err := p.Clients.Get(r.Context(), a.ClientID)
	if err != nil {
		p.Log.ErrorContext(r.Context(), "login page client", "request_id", httpapi.RequestID(r.Context()), "err", err)
		p.Pages.ErrorPage(w, http.StatusBadRequest, "Cannot sign in", "The application that sent you here is no longer registered.")
		return
	}
	host := a.RedirectURI
	if u, err := url.Parse(a.RedirectURI); err == nil && u.Host != "" {
		host = u.Host
	}
	var continueAs string
	if p.Sessions != nil {
		if l, ok := p.Sessions.SessionAccount(r.Context(), a); ok {
			continueAs = accountName(l)
		}
	}
	httpapi.SetPageHeaders(w)
	err = p.Pages.Login(w, web.LoginData{
		ContinueAs:    continueAs,
		ContinueURL:   p.Path + "/continue",
		AuthRequestID: a.ID,
		ClientName:    c.Name,
		RedirectHost:  host,
		Claims:        scopeClaims(a.Scopes),
		ChainIDs:      p.ChainIDs,
		ChallengeURL:  p.Path + "/challenge",
		VerifyURL:     p.Path + "/verify",
		StaticURL:     p.Pages.Static,
		CancelURL:     cancelURL(a),
	})
	if err != nil {
		p.Log.ErrorContext(r.Context(), "render login page", "request_id", httpapi.RequestID(r.Context()), "err", err)
	}
}

// accountName is how the page names a signed-in account: its ENS name, or
// its address shortened as wallets show it (0x1234…abcd).
func accountName(l *storage.Login) string {
	if l.Name != "" {
		return l.Name
	}
	if len(l.Address) == 42 {
		return l.Address[:6] + "…" + l.Address[38:]
	}
	return l.Address
}

// scopeClaims says, in words, what each scope gives the app.
func scopeClaims(scopes []string) []string {
	out := []string{"Your Ethereum address and chain, as your account ID"}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		out = append(out, "Your username (your ENS name or address)")
	}
	if slices.Contains(scopes, clients.ScopeSIWE) {
		out = append(out, "The message you sign and its signature, so the app can verify it itself")
	}
	if slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		out = append(out, "Access while you are away (a refresh token)")
	}
	var api []string
	for _, s := range scopes {
		if clients.IsAPIScope(s) {
			api = append(api, s)
		}
	}
	if len(api) > 0 {
		out = append(out, "Permissions in the app's own API: "+strings.Join(api, ", "))
	}
	return out
}

// cancelURL sends the person back to the app with access_denied
// (RFC 6749 §4.1.2.1).
func cancelURL(a *storage.AuthRequest) string {
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("error", "access_denied")
	q.Set("error_description", "the person cancelled the sign-in")
	if a.State != "" {
		q.Set("state", a.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
