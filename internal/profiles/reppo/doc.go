// Package reppo serves the "reppo" wire profile (SPEC "Wire profiles"): a
// client registered with --profile reppo answers at
// <issuer>/compat/<client_id> as Reppo's wallet sign-in does (its Chat
// Server and Agent API at api.reppo.xyz, documented in the Reppo-Labs/docs
// pages authentication.mdx and api/agent/auth.mdx, and called by the
// Reppo-Labs/reppo-cli command), so that its clients switch to Signet by
// changing their base URL:
//   - POST /auth/nonce {"walletAddress"} → 200 {"nonce", "message"}, where
//     the message is Signet's EIP-4361 challenge for that address and this
//     client, which the wallet signs as it is (personal_sign, EIP-191), and
//     the nonce is the challenge's ID: an opaque, unguessable handle that
//     finds the challenge on any replica and is spent with it;
//   - POST /auth/verify {"walletAddress", "signature", "nonce"} → 200
//     {"token", "walletAddress"}, where the token is Signet's RS256 access
//     token for the client (aud = the client ID, the client's access-token
//     lifetime: 24 h unless registered otherwise), verifiable against
//     <issuer>/keys, and walletAddress is the signed-in address in
//     lowercase.
//
// Addresses are 0x and 40 hex digits in any case, as Reppo's pattern
// ^0x[a-fA-F0-9]{40}$ asks; the signature is hex with or without 0x. The
// wallet must be the one the nonce was issued for, and the nonce one issued
// for this client; every SIWE rule applies through signin.Core, and no
// client secret is asked for.
//
// Errors are Reppo's {"error": "<words>"}: 400 for a missing field or a
// malformed request, 401 {"error": "Unauthorized"} for any refused
// signature or nonce (unknown, used, expired, another client's or another
// wallet's; the sign-in audit log keeps the core's reason), 429 with
// Retry-After when rate limited, and 5xx only for Signet's own failures,
// which are logged with the request ID and answered in generic words.
package reppo
