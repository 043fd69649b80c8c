// Package bearer verifies Signet's own access tokens offline, as a
// resource server does (RFC 9068 §4): an RS256 JWT typed at+jwt, signed by
// one of the provider's published keys (by its kid), from this issuer, for
// the expected client, unexpired. The surfaces that take a Bearer token
// (the siwa profile's protected endpoints, /api/keys) share it; what else
// a surface asks of a token (an agent, a wallet sign-in) stays with it.
package bearer
