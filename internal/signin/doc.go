// Package signin holds the rules every sign-in surface shares, whatever its
// wire shape: which client may ask, for which account and chain, with which
// scopes; how a signed challenge is checked and who may present it; for an
// agent's SIWA message, whether the signer may sign in as that agent
// (package agents); and how a verified sign-in becomes a login record and
// then tokens.
//
// A surface (the login page, the DIMO and JSON headless APIs, a wire
// profile) decodes its request, calls one method of [Core] and encodes the
// answer in its own shape. Core issues tokens through [Tokens], which the
// OpenID provider (package op) implements, so a surface never touches the
// provider. Errors are *httpapi.Error values; a rejected signature carries
// the siwe.Check that failed, for the surface's own words.
package signin
