// Package apikeys holds wallet-bound, scoped API keys (SPEC "API keys"): a
// signed-in wallet creates long-lived keys for a client, each with some of
// the client's API scopes, and a resource server of that client checks a
// key by introspection (RFC 7662) or exchanges it for a short-lived access
// token (RFC 8693), both of which op wires to [Keys.Check].
//
// A key is the client's prefix ("sgk_", "dob_ak_" for the dob profile) and
// 64 hex digits (32 random bytes). It is shown once, when it is made;
// storage keeps its SHA-256 only. A key is bound to its client and wallet:
// it is active for its own client only, only its wallet lists, revokes or
// rotates it, and its scopes are, at every use, those it was given that the
// client still has. Revocation and rotation are one conditional write in
// the database, and nothing of a key is cached, so a revoked key fails its
// next check on every replica.
//
// [API] serves the wallet's endpoints, /api/keys, authenticated by an
// access token of the client (package bearer) that is still active in the
// database and that no API key was exchanged for: keys make no keys.
// Every change and every use of a key is an event in the log (client,
// account, key ID, request ID), never the key itself.
package apikeys
