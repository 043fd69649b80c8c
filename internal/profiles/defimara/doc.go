// Package defimara serves the "defimara" wire profile (SPEC "Wire profiles"):
// a client registered with --profile defimara answers at
// <issuer>/compat/<client_id> as DeFiMara's agent API signs agents in
// (defimara.pages.dev/doc/api-agent-auth and /doc/api-endpoints), so that
// agents written against it switch to Signet by changing their base URL:
//   - GET /auth/challenge?address=0x… → 200 {"challenge": "<message>"},
//     where the message is Signet's EIP-4361 challenge for that address
//     and this client, which the agent signs as it is (personal_sign,
//     EIP-191; web3.py's Account.sign_message(encode_defunct(text=…)));
//   - POST /auth/verify {"address", "challenge", "signature"} → 200
//     {"access_token", "token_type": "Bearer", "expires_in"}, where the
//     token is Signet's RS256 access token for the client (aud = the client
//     ID, the client's access-token lifetime: 24 h unless registered
//     otherwise), verifiable against <issuer>/keys.
//
// The signature is hex with or without 0x: web3.py's signature.hex() has
// none. The address the agent names must be the one the challenge was
// issued for, and the challenge one issued for this client; every SIWE rule
// applies through signin.Core, and no client secret is asked for.
//
// Errors are {"error": "<words>"}, the envelope of DeFiMara's Node.js
// server, whose documentation gives the status codes but not the body: 400
// for malformed input (not JSON, a missing field, an address or signature
// that is not hex), 401 for a refused signature or challenge (unknown,
// used, expired, another client's or another address's), 429 with
// Retry-After when rate limited, and 5xx only for Signet's own failures,
// which are logged with the request ID and answered in generic words.
package defimara
