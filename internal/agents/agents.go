package agents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/siwe"
)

// How an agent's control was checked: the values of the agent_verified claim.
const (
	// VerifiedOnchain: the registry, read on its chain at the time of the
	// sign-in, names the signer as the agent's owner or agent wallet.
	VerifiedOnchain = "onchain"
	// VerifiedOffline: the registry's chain could not be read; only the
	// signature and the client's registry list were checked.
	VerifiedOffline = "offline"
)

// Reader reads ERC-8004 identity registries; *chain.AgentRegistries is one.
// Owner and TokenURI report an agent that does not exist with
// chain.ErrNotRegistered; Wallet answers the zero address for none.
type Reader interface {
	// Reads reports whether registries on chainID can be read.
	Reads(chainID int64) bool
	// Owner returns the agent's owner (ERC-721 ownerOf).
	Owner(ctx context.Context, reg siwe.Registry, id int64) (common.Address, error)
	// Wallet returns the agent's agent wallet (ERC-8004 getAgentWallet).
	Wallet(ctx context.Context, reg siwe.Registry, id int64) (common.Address, error)
	// TokenURI returns the agent's registration file URI (ERC-721 tokenURI).
	TokenURI(ctx context.Context, reg siwe.Registry, id int64) (string, error)
}

var _ Reader = (*chain.AgentRegistries)(nil)

// Config is what a [Checker] works with.
type Config struct {
	// Reader reads the registries; nil reads none, so that every agent is
	// offline.
	Reader Reader
	// Files fetches registration files; nil fetches none.
	Files *Files
	// Log records what could not be read; nil discards it.
	Log *slog.Logger
}

// Checker applies the agent rules; use [New].
type Checker struct{ cfg Config }

// New returns a Checker for cfg.
func New(cfg Config) *Checker {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Checker{cfg: cfg}
}

// Facts are what a verified agent sign-in says of the agent, for its tokens.
type Facts struct {
	// Agent is the agent that signed in.
	Agent siwe.Agent
	// Verified is VerifiedOnchain or VerifiedOffline.
	Verified string
	// Name is the registration file's name, if it was read.
	Name string
	// Services is the registration file's services, a JSON array, if it was read.
	Services string
}

// Allow checks, before a challenge is issued, that account may sign in as
// agent a to client cl, so that an agent that may not learns it before it
// signs (the SIWA server checks ownership when it issues a nonce).
func (c *Checker) Allow(ctx context.Context, cl *clients.Client, account common.Address, a siwe.Agent) error {
	_, err := c.control(ctx, cl, account, a)
	return err
}

// Verify checks, for a signed SIWA message, that account may sign in as
// agent a to client cl, and returns what the tokens say of it; with
// registration set (the agent scope), the registration file is read too.
// A registration file that cannot be read is left out, and logged.
func (c *Checker) Verify(ctx context.Context, cl *clients.Client, account common.Address, a siwe.Agent, registration bool) (*Facts, error) {
	how, err := c.control(ctx, cl, account, a)
	if err != nil {
		return nil, err
	}
	f := &Facts{Agent: a, Verified: how}
	if registration && how == VerifiedOnchain && c.cfg.Files != nil {
		f.Name, f.Services = c.registration(ctx, a)
	}
	return f, nil
}

// control applies SPEC's agent rules and says how they were checked.
func (c *Checker) control(ctx context.Context, cl *clients.Client, account common.Address, a siwe.Agent) (string, error) {
	chainID := a.Registry.ChainID
	if !cl.AgentRegistryAllowed(a.Registry) {
		return "", refused(siwe.CheckAgentRegistry, "the agent's registry is not allowed for this client")
	}
	if c.cfg.Reader == nil || !c.cfg.Reader.Reads(chainID) {
		if cl.AgentOffline {
			return VerifiedOffline, nil
		}
		return "", refused(siwe.CheckAgentOffline, fmt.Sprintf(
			"the agent's owner cannot be checked on chain %d here, and this client does not accept agents verified offline", chainID))
	}
	owner, err := c.cfg.Reader.Owner(ctx, a.Registry, a.ID)
	switch {
	case errors.Is(err, chain.ErrNotRegistered):
		return "", refused(siwe.CheckAgentNotRegistered, "the agent is not registered in the ERC-8004 identity registry")
	case err != nil:
		return "", unavailable(chainID, err)
	case owner == account:
		return VerifiedOnchain, nil
	}
	wallet, err := c.cfg.Reader.Wallet(ctx, a.Registry, a.ID)
	switch {
	case err != nil:
		return "", unavailable(chainID, err)
	case wallet == account:
		return VerifiedOnchain, nil
	}
	return "", refused(siwe.CheckAgentNotOwner, "the signer is not the owner of the agent, nor its agent wallet")
}

// registration reads the agent's registration file's name and services.
func (c *Checker) registration(ctx context.Context, a siwe.Agent) (name, services string) {
	uri, err := c.cfg.Reader.TokenURI(ctx, a.Registry, a.ID)
	if err == nil {
		var r *Registration
		if r, err = c.cfg.Files.Get(ctx, uri); err == nil {
			return r.Name, r.Services
		}
	}
	c.cfg.Log.WarnContext(ctx, "agent registration file not read; its name and services are left out",
		"agent_registry", a.Registry.String(), "agent_id", a.ID, "err", err)
	return "", ""
}

// refused is a failed agent rule.
func refused(check siwe.Check, description string) *siwe.Error {
	return &siwe.Error{Code: siwe.CodeInvalidGrant, Check: check, Description: description}
}

// unavailable is a registry read that failed: the node, not the agent.
func unavailable(chainID int64, cause error) *siwe.Error {
	return &siwe.Error{Code: siwe.CodeUnavailable, Description: fmt.Sprintf("the RPC endpoint for chain %d did not answer", chainID), Err: cause}
}
