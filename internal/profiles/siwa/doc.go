// Package siwa serves the "siwa" wire profile (SPEC "Wire profiles"): a
// client registered with --profile siwa answers at <issuer>/compat/<client_id>
// as the Sign In With Agent server does, so that agents written against it
// (nonce, sign with @buildersgarden/siwa, verify, then Bearer calls) switch
// to Signet by changing their base URL:
//   - POST /api/siwa/nonce {address, agentId?, agentRegistry?} →
//     {nonce, issuedAt, expirationTime, domain, uri, chainId}; when the agent
//     is named, whether the address may sign in as it is checked first;
//   - POST /api/siwa/verify {message, signature} → {success, token, address,
//     agentId, agentRegistry, verified, expiresAt}, where token is Signet's
//     RS256 access token for the client, verifiable against the JWKS;
//   - GET /api/protected and POST /api/agent-action with that token as
//     Bearer, answered in the SIWA server's shapes.
//
// Errors are {success: false, error} with 400 for malformed input and 401
// for any refused check (a used or expired nonce included); the protected
// endpoints answer 401 {error: "Unauthorized"}. CORS is open, as on the
// SIWA server, on this profile only.
//
// The message is the agent's own SIWA message carrying the nonce; every
// EIP-4361 rule and the agent rules apply, through signin.Core. Its URI is
// the profile's verify URL, which the nonce answer names, as the SIWA
// server's does.
package siwa
