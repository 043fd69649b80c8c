// Package siwe issues and verifies Sign-In with Ethereum challenges
// (EIP-4361), the proof that replaces a password in Signet.
//
// A [Verifier] builds every challenge itself: the domain and URI of the
// issuer, an allowed chain ID, a fresh random nonce, Issued At and Expiration
// Time. It keeps the exact text in a [Store]. Verification parses the
// submitted message, finds the challenge by its nonce, checks every field
// against the challenge and the configuration, checks the signature over the
// exact submitted bytes (EIP-191) with a [SignatureChecker], and only then
// consumes the challenge, so that each challenge signs in at most once.
//
// The same rules verify Sign In With Agent (SIWA) messages: EIP-4361 with
// "… wants you to sign in with your Agent account:" and the lines Agent ID
// and Agent Registry, which name an ERC-8004 agent ([Agent]). Their grammar
// is parsed strictly; whether the signer controls the agent is for the
// caller to check, with [Result].Agent.
//
// Every failure is an [*Error] whose [Code] says whether the input was
// malformed, the proof was rejected, or a dependency failed; its Description
// is safe to show to a client and its Err is not.
package siwe
