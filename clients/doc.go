// Package clients holds Signet's client registry: the OAuth/OIDC applications
// allowed to sign people in, the rules a registration must follow, and the
// checks the provider makes against a registered client at request time.
//
// A [Registry] validates and normalizes registrations, generates client IDs and
// secrets from an injected random source, and persists clients through the
// [Store] interface that the storage package implements. A [Client] answers the
// request-time questions: is this redirect URI registered (RFC 6749 §3.1.2,
// RFC 8252 §7.3), is this scope allowed, is this secret right, is this address
// one of a developer-license client's signers.
//
// Every validation problem of a registration is reported at once in a single
// [ValidationError]. Client secrets are 32 random bytes, shown once and stored
// only as a SHA-256 hash.
package clients
