// Package resource lets an API backend (a resource server) accept Signet's
// credentials and learn whom they speak for. It imports nothing of Signet.
//
//	v, err := resource.New(resource.Config{
//		Issuer:    "https://signet.example",
//		Audiences: []string{clientID}, // whose tokens this API takes
//		ClientID:  clientID, ClientSecret: secret, // for API keys
//	})
//	mux.Handle("GET /things", v.Require("profile")(things)) // things calls resource.FromContext
//
// A Bearer JWT access token (RFC 9068) is checked offline against Signet's
// JWKS ([Verifier.Verify]). An X-API-Key, an opaque Bearer token with
// Config.Opaque, and every Bearer token with Config.Introspect (to see
// revocations) are checked by introspection (RFC 7662, [Verifier.Introspect]),
// whose answers are cached briefly. Both endpoints come from Signet's
// discovery document.
//
// [Verifier.Require] answers a missing or bad credential with 401, a missing
// scope with 403, two credentials with 400 (RFC 6750 §3), in JSON or in the
// server's own envelope (Config.WriteError). When Signet cannot be reached
// it answers 503 with Retry-After, not 401: the credential may be good, and
// a 401 would make the client throw it away and sign in again against a
// Signet that is down. No answer carries an internal error; [Error.Unwrap]
// gives it to the logs.
//
// The JWKS is cached here with go-jose v4 rather than by coreos/go-oidc's
// RemoteKeySet, which is simpler: RemoteKeySet fetches again for every
// token with an unknown kid, so a flood of made-up kids becomes a flood of
// JWKS requests; it keeps a set for ever while its kids are known, so a key
// Signet withdrew keeps verifying; it takes no clock to test with; and its
// verifier is for ID tokens (one audience, no typ). Here an unknown kid
// fetches the JWKS at most once per Config.RefetchInterval, and a set older
// than Config.KeysMaxAge is fetched again (and used while that fails).
package resource
