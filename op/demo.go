package op

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/web"
)

// DemoClientID is the client that `serve --dev` registers for /demo.
const DemoClientID = "demo"

// demoApp is a small relying party served beside the provider in dev mode.
// It runs the real authorization-code + PKCE flow against the issuer over
// HTTP and verifies the ID token with coreos/go-oidc against the JWKS, as
// any app would.
type demoApp struct {
	s   *Server
	key []byte
}

func newDemoApp(s *Server) *demoApp {
	k := hmac.New(sha256.New, s.cfg.CryptoKey[:])
	k.Write([]byte("signet demo cookie"))
	return &demoApp{s: s, key: k.Sum(nil)}
}

// DemoRedirectURI is the redirect URI the demo client must be registered with.
func DemoRedirectURI(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/demo/callback"
}

func (d *demoApp) oauth2Config(endpoint oauth2.Endpoint) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    DemoClientID,
		Endpoint:    endpoint,
		RedirectURL: DemoRedirectURI(d.s.cfg.Issuer),
		Scopes:      []string{oidc.ScopeOpenID, "profile", ScopeSIWE, oidc.ScopeOfflineAccess},
	}
}

func (d *demoApp) home(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w)
	_ = d.s.pages.Demo(w, web.DemoData{StartURL: d.s.path("/demo/start"), StaticURL: d.s.path("/static/"), Issuer: d.s.cfg.Issuer})
}

type demoState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Expires  int64  `json:"e"`
}

// sign and open keep the flow's secrets in an HMAC-protected cookie, so the
// demo holds no server-side state.
func (d *demoApp) sign(st demoState) string {
	b, _ := json.Marshal(st)
	m := hmac.New(sha256.New, d.key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *demoApp) open(v string) (demoState, bool) {
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

func (d *demoApp) provider(r *http.Request) (*oidc.Provider, error) {
	return oidc.NewProvider(r.Context(), d.s.cfg.Issuer)
}

func (d *demoApp) start(w http.ResponseWriter, r *http.Request) {
	p, err := d.provider(r)
	if err != nil {
		d.s.log.ErrorContext(r.Context(), "demo discovery", "err", err)
		d.s.errorPage(w, http.StatusBadGateway, "Demo unavailable", "The demo app could not read the issuer's discovery document.")
		return
	}
	st := demoState{State: randomID(16), Nonce: randomID(16), Verifier: oauth2.GenerateVerifier(), Expires: time.Now().Add(10 * time.Minute).Unix()}
	http.SetCookie(w, &http.Cookie{
		Name: "signet_demo", Value: d.sign(st), Path: d.s.path("/demo"),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 600,
	})
	u := d.oauth2Config(p.Endpoint()).AuthCodeURL(st.State, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	http.Redirect(w, r, u, http.StatusFound)
}

func (d *demoApp) callback(w http.ResponseWriter, r *http.Request) {
	render := func(data web.DemoResultData) {
		data.Issuer, data.StaticURL, data.BackURL = d.s.cfg.Issuer, d.s.path("/static/"), d.s.path("/demo")
		setPageHeaders(w)
		_ = d.s.pages.DemoResult(w, data)
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
		d.s.log.WarnContext(r.Context(), "demo token exchange", "err", err)
		render(web.DemoResultData{Error: "The token exchange failed; start again."})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: DemoClientID}).Verify(r.Context(), raw)
	if err != nil || idt.Nonce != st.Nonce {
		d.s.log.WarnContext(r.Context(), "demo id token", "err", err)
		render(web.DemoResultData{Error: "The ID token did not verify."})
		return
	}
	var claims map[string]any
	_ = idt.Claims(&claims)
	pretty, _ := json.MarshalIndent(claims, "", "  ")
	http.SetCookie(w, &http.Cookie{Name: "signet_demo", Path: d.s.path("/demo"), MaxAge: -1})
	render(web.DemoResultData{ClaimsJSON: string(pretty), IDToken: raw, AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken})
}
