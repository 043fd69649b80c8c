// Package dob serves the "dob" wire profile (SPEC "Wire profiles"): a client
// registered with --profile dob answers at <issuer>/compat/<client_id> as
// DobProtocol's Agent API authentication does (its documentation at
// docs.dobprotocol.com: agent-api/authentication, agent-api/api-keys and
// agent-api/errors), so that agents written against it switch to Signet by
// changing their base URL:
//   - POST /api/agent/auth/nonce {"wallet_address"} → 200 {"success": true,
//     "data": {"nonce", "message", "expires_at"}}, where the message is
//     Signet's own challenge for the wallet and this client: EIP-4361 for an
//     Ethereum address, CAIP-122 for a Stellar account ("G…"), which the
//     wallet signs as it is; the nonce is the message's Nonce line;
//   - POST /api/agent/auth/verify {"wallet_address", "signature", "chain"}
//     (chain "evm" or "stellar", or absent; no nonce) → 200 {"success": true,
//     "data": {"token", "expires_at", "wallet_address"}}: the signature is
//     checked against the wallet's open challenge (signin.RedeemOpen), and
//     the token is Signet's RS256 access token for the client (aud = the
//     client, 24 h unless registered otherwise, every API scope of the
//     client), verifiable against <issuer>/keys;
//   - with that token as Bearer, the wallet's API keys (package apikeys, with
//     the prefix dob_ak_): POST /api/agent/auth/keys {"label", "scopes"} →
//     201, GET /api/agent/auth/keys → 200, DELETE /api/agent/auth/keys/{id}
//     → 200, POST /api/agent/auth/keys/{id}/rotate → 201. A key is shown in
//     the one answer that makes it: {"success": true, "data": {"id",
//     "key_id", "key", "label", "scopes", "created_at"}} ("key_id" is the
//     name Dob's documentation gives the ID). Resource servers check keys,
//     sent as X-API-Key, by introspection (package resource).
//
// Signatures are EIP-191 personal_sign over the message (hex, with or
// without 0x), or for a Stellar account raw ed25519 over the message's bytes
// in hex, as stellar_sdk's Keypair.sign(message.encode()).hex() makes it (or
// SEP-53). Every rule of the core applies: unexpired, unused, this client's,
// this wallet's, consumed with the tokens; no client secret is asked for.
//
// Errors are Dob's envelope {"success": false, "error": {"code",
// "message"}} with Dob's codes: 400 VALIDATION_ERROR, 401 UNAUTHORIZED (a
// refused signature or challenge, with the core's words for the check that
// failed; a missing or bad Bearer token), 403 INSUFFICIENT_SCOPE, 404
// NOT_FOUND, 429 RATE_LIMIT_EXCEEDED with Retry-After, 500 INTERNAL_ERROR
// and 503 SERVICE_UNAVAILABLE, whose messages never carry an internal error.
package dob
