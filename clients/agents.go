package clients

import (
	"slices"

	"github.com/signet-id/signet/siwe"
)

// ScopeAgent asks, for an agent sign-in (SIWA), for the agent's
// registration file: the agent_name and agent_services claims.
const ScopeAgent = "agent"

// AgentRegistryAllowed reports whether the client accepts agents of the
// ERC-8004 registry r (SPEC "Agents": the registry is one the client allows).
func (c *Client) AgentRegistryAllowed(r siwe.Registry) bool {
	return slices.Contains(c.AgentRegistries, r)
}

// checkAgentRegistries parses "eip155:<chain>:<address>" registry names
// and returns them without duplicates, in order.
func checkAgentRegistries(p *problems, names []string) []siwe.Registry {
	var out []siwe.Registry
	for _, s := range names {
		r, err := siwe.ParseRegistry(s)
		if err != nil {
			p.addf("agent registry %q: %v", s, err)
			continue
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
