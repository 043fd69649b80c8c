package op_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
)

// jwtType is the "typ" header of a compact JWS.
func jwtType(t testing.TB, jwt string) string {
	t.Helper()
	h, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(raw, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Typ
}

// TestAccessTokensAreTypedATJWT: access tokens carry typ at+jwt (RFC 9068
// §2.1) and ID tokens do not, in the code flow, on refresh and headless;
// both verify against the JWKS and userinfo accepts the access token.
func TestAccessTokensAreTypedATJWT(t *testing.T) {
	ts := newTestServer(t, nil)
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect, dimoDomain}})
	app := newRP(t, ts, c.ID, secret, "offline_access")
	code, verifier := codeFor(t, ts, app)
	tok, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	check := func(label, access, id string) {
		t.Helper()
		if typ := jwtType(t, access); typ != "at+jwt" {
			t.Errorf("%s: access token typ %q, want at+jwt", label, typ)
		}
		if typ := jwtType(t, id); typ == "at+jwt" {
			t.Errorf("%s: ID token typed at+jwt", label)
		}
		at := verifyJWT(t, app, access, c.ID)
		if at["jti"] == nil || at["scope"] == nil || at["ethereum_address"] == nil {
			t.Errorf("%s: access token claims %v", label, at)
		}
		verifyIDToken(t, app, id)
	}
	check("code flow", tok.AccessToken, tok.Extra("id_token").(string))
	if info, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(tok)); err != nil || info.Subject == "" {
		t.Fatalf("userinfo with the access token: %v %v", info, err)
	}
	refreshed, err := app.config.TokenSource(app.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatal(err)
	}
	check("refresh", refreshed.AccessToken, refreshed.Extra("id_token").(string))

	w := newWallet(t)
	state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
	resp, body := dimoSubmit(t, ts, c.ID, state, w.Sign(t, ch))
	if resp.StatusCode != 200 {
		t.Fatalf("headless: %d %v", resp.StatusCode, body)
	}
	check("headless", body["access_token"].(string), body["id_token"].(string))
}
