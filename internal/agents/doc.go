// Package agents holds the rules of an agent sign-in (SIWA, SPEC "Agents"):
// an AI agent registered in an ERC-8004 identity registry signs a SIWA
// message, which package siwe verifies like any EIP-4361 message, and
// [Checker] then decides whether the account that signed may sign in as
// that agent, for that client:
//   - the registry is one the client allows;
//   - with an RPC endpoint for the registry's chain, the account is the
//     agent's owner (ownerOf) or its agent wallet (getAgentWallet), read at
//     the time of the check: "onchain";
//   - without one, the client must accept agents verified offline, and the
//     sign-in says "offline".
//
// With the agent scope, the agent's registration file (tokenURI) is read
// too, for its name and services: [Files] fetches it from an https or data:
// URI, bounded in size and time, cached, and never from the operator's own
// network (loopback, private, link-local and other special-purpose
// addresses are refused where the connection is dialed, so that neither a
// redirect nor a DNS answer that changes can reach them) unless the operator
// allows it.
//
// Refusals are *siwe.Error values whose Check names the rule; a node that
// fails is CodeUnavailable, which surfaces answer 503.
package agents
