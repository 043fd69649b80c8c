// Package demo is a small relying party that `serve --dev` runs beside the
// provider at /demo: it runs the real authorization-code + PKCE flow
// against the issuer over HTTP and verifies the ID token with
// coreos/go-oidc against the JWKS, as any app would, then shows the claims.
package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/random"
	"github.com/signet-id/signet/web"
)

// ClientID is the client that `serve --dev` registers for /demo.
const ClientID = "demo"

// RedirectURI is the redirect URI the demo client must be registered with.
func RedirectURI(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/demo/callback"
}

// App is the demo relying party.
type App struct {
	issuer string
	path   string // the absolute URL path of /demo
	pages  *httpapi.Pages
	log    *slog.Logger
	key    []byte // the state cookie's HMAC key
}

// New returns the demo for issuer, served at path (e.g. "/demo"); secret
// keys the HMAC of its state cookie.
func New(issuer, path string, secret []byte, pages *httpapi.Pages, log *slog.Logger) *App {
	k := hmac.New(sha256.New, secret)
	k.Write([]byte("signet demo cookie"))
	return &App{issuer: issuer, path: path, pages: pages, log: log, key: k.Sum(nil)}
}

// Register adds the demo's pages to mux.
func (d *App) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo", d.home)
	mux.HandleFunc("GET /demo/start", d.start)
	mux.HandleFunc("GET /demo/callback", d.callback)
}

func (d *App) oauth2Config(endpoint oauth2.Endpoint) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    ClientID,
		Endpoint:    endpoint,
		RedirectURL: RedirectURI(d.issuer),
		Scopes:      []string{oidc.ScopeOpenID, "profile", "siwe", oidc.ScopeOfflineAccess},
	}
}

func (d *App) home(w http.ResponseWriter, r *http.Request) {
	httpapi.SetPageHeaders(w)
	_ = d.pages.Demo(w, web.DemoData{StartURL: d.path + "/start", StaticURL: d.pages.Static, Issuer: d.issuer})
}

type demoState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

// sign and open keep the flow's secrets in an HMAC-protected cookie, so the
// demo holds no server-side state.
func (d *App) sign(st demoState) string {
	b, _ := json.Marshal(st)
	m := hmac.New(sha256.New, d.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *App) open(v string) (demoState, bool) {
	var st demoState
	body, mac, ok := strings.Cut(v, ".")
	if !ok {
		return st, false
	}
	b, err1 := base64.RawURLEncoding.DecodeString(body)
	sum, err2 := base64.RawURLEncoding.DecodeString(mac)
	if err1 != nil || err2 != nil {
		return st, false
	}
	m := hmac.New(sha256.New, d.key)
	m.Write(b)
	if !hmac.Equal(sum, m.Sum(nil)) || json.Unmarshal(b, &st) != nil || time.Now().Unix() > st.Expires {
		return st, false
	}
	return st, true
}

func (d *App) provider(r *http.Request) (*oidc.Provider, error) {
	return oidc.NewProvider(r.Context(), d.issuer)
}

func (d *App) start(w http.ResponseWriter, r *http.Request) {
	p, err := d.provider(r)
	if err != nil {
		d.log.ErrorContext(r.Context(), "demo discovery", "err", err)
		d.pages.ErrorPage(w, http.StatusBadGateway, "Demo unavailable", "The demo app could not read the issuer's discovery document.")
		return
	}
	st := demoState{State: random.Base64(16), Nonce: random.Base64(16), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(10 * time.Minute).Unix()}
	http.SetCookie(w, &http.Cookie{
		Name: "signet_demo", Value: d.sign(st), Path: d.path,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 600,
	})
	u := d.oauth2Config(p.Endpoint()).AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	http.Redirect(w, r, u, http.StatusFound)
}

func (d *App) callback(w http.ResponseWriter, r *http.Request) {
	render := func(data web.DemoResultData) {
		data.Issuer, data.StaticURL, data.BackURL = d.issuer, d.pages.Static, d.path
		httpapi.SetPageHeaders(w)
		_ = d.pages.DemoResult(w, data)
	}
	c, err := r.Cookie("signet_demo")
	if err != nil {
		render(web.DemoResultData{Error: "The demo's state cookie is missing; start again."})
		return
	}
	st, ok := d.open(c.Value)
	if !ok || r.URL.Query().Get("state") != st.State {
		render(web.DemoResultData{Error: "The state does not match this browser's sign-in; start again."})
		return
	}
	if e := r.URL.Query().Get("error"); e != "" {
		render(web.DemoResultData{Error: e + ": " + r.URL.Query().Get("error_description")})
		return
	}
	p, err := d.provider(r)
	if err != nil {
		render(web.DemoResultData{Error: "Could not read the issuer's discovery document."})
		return
	}
	tok, err := d.oauth2Config(p.Endpoint()).Exchange(r.Context(), r.URL.Query().Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		d.log.WarnContext(r.Context(), "demo token exchange", "err", err)
		render(web.DemoResultData{Error: "The token exchange failed; start again."})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: ClientID}).Verify(r.Context(), raw)
	if err != nil || idt.Nonce != st.Nonce {
		d.log.WarnContext(r.Context(), "demo id token", "err", err)
		render(web.DemoResultData{Error: "The ID token did not verify."})
		return
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	pretty, _ := json.MarshalIndent(claims, "", "  ")
	http.SetCookie(w, &http.Cookie{Name: "signet_demo", Path: d.path, MaxAge: -1})
	render(web.DemoResultData{ClaimsJSON: string(pretty), IDToken: raw, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
}
