package signin

import (
	"context"
	"slices"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

// agent applies the agent rules to a verified SIWA sign-in (SPEC "Agents")
// and returns what its tokens say of the agent; an EIP-4361 sign-in names
// no agent, and gets nil. The registration file is read only when the
// sign-in asked for the agent scope.
func (c *Core) agent(ctx context.Context, cl *clients.Client, res *siwe.Result) (*agents.Facts, error) {
	if res.Agent == nil {
		return nil, nil
	}
	return c.Agents.Verify(ctx, cl, res.Address, *res.Agent, slices.Contains(res.Challenge.Scopes, clients.ScopeAgent))
}

// ParseAgent reads the agent a nonce request names (an ERC-721 token ID and
// an "eip155:<chain>:<address>" registry): both, or neither (nil).
func ParseAgent(id *int64, registry string) (*siwe.Agent, error) {
	switch {
	case id == nil && registry == "":
		return nil, nil
	case id == nil || registry == "":
		return nil, httpapi.BadRequest("an agent is named by its ID and its registry together")
	case *id < 0:
		return nil, httpapi.BadRequest("the agent ID is not an ERC-721 token ID")
	}
	reg, err := siwe.ParseRegistry(registry)
	if err != nil {
		return nil, httpapi.BadRequest("the agent registry is not eip155:<chainId>:<address>")
	}
	return &siwe.Agent{ID: *id, Registry: reg}, nil
}
