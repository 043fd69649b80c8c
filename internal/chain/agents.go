package chain

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/siwe"
)

// DefaultAgentTimeout bounds one read of an agent registry when
// [NewAgentRegistries] is given no timeout.
const DefaultAgentTimeout = 5 * time.Second

// maxTokenURILen is the longest registration file URI read, in bytes: a
// data: URI carries the whole file.
const maxTokenURILen = 128 << 10

// Selectors of the ERC-8004 identity registry's reads.
const (
	ownerOfSelector        = "\x63\x52\x21\x1e" // ownerOf(uint256) (ERC-721)
	tokenURISelector       = "\xc8\x7b\x56\xdd" // tokenURI(uint256) (ERC-721 metadata)
	getAgentWalletSelector = "\x00\x33\x95\x09" // getAgentWallet(uint256) (ERC-8004 v1.1)
)

// Errors of [AgentRegistries].
var (
	// ErrNoRPC: no RPC endpoint is configured for the registry's chain.
	ErrNoRPC = errors.New("chain: no RPC endpoint for the agent registry's chain")
	// ErrNotRegistered: the registry has no agent with that ID.
	ErrNotRegistered = errors.New("chain: the registry has no such agent")
)

// AgentRegistries reads ERC-8004 identity registries, each an ERC-721 whose
// tokens are agents, on the chains it has an RPC endpoint for: who owns an
// agent, its agent wallet, its registration file URI. Nothing is cached: an
// agent that changed hands is seen at once. Use [NewAgentRegistries].
type AgentRegistries struct {
	callers map[int64]siwe.ContractCaller
	timeout time.Duration
}

// NewAgentRegistries reads registries on each chain (by EIP-155 chain ID)
// through callers, giving each read at most timeout (zero or less:
// [DefaultAgentTimeout]). The map is copied; nil callers are ignored.
func NewAgentRegistries(callers map[int64]siwe.ContractCaller, timeout time.Duration) *AgentRegistries {
	if timeout <= 0 {
		timeout = DefaultAgentTimeout
	}
	a := &AgentRegistries{callers: make(map[int64]siwe.ContractCaller, len(callers)), timeout: timeout}
	for id, c := range callers {
		if c != nil {
			a.callers[id] = c
		}
	}
	return a
}

// Reads reports whether registries on chainID can be read.
func (a *AgentRegistries) Reads(chainID int64) bool {
	return a != nil && a.callers[chainID] != nil
}

// Owner returns the agent's owner, ERC-721 ownerOf(agentId). An agent that
// does not exist (ownerOf reverts, or answers the zero address), or a
// registry without code, gives ErrNotRegistered.
func (a *AgentRegistries) Owner(ctx context.Context, reg siwe.Registry, id int64) (common.Address, error) {
	out, err := a.call(ctx, reg, ownerOfSelector, id, "ownerOf")
	if err != nil {
		return common.Address{}, err
	}
	owner, err := decodeENSAddress(out, "ownerOf")
	if err == nil && owner == (common.Address{}) {
		return common.Address{}, ErrNotRegistered
	}
	return owner, err
}

// Wallet returns the agent's verified agent wallet, ERC-8004 v1.1
// getAgentWallet(agentId), or the zero address when it has none, or when the
// registry has no such function (it reverts) or no such agent.
func (a *AgentRegistries) Wallet(ctx context.Context, reg siwe.Registry, id int64) (common.Address, error) {
	out, err := a.call(ctx, reg, getAgentWalletSelector, id, "getAgentWallet")
	if errors.Is(err, ErrNotRegistered) {
		return common.Address{}, nil
	}
	if err != nil {
		return common.Address{}, err
	}
	return decodeENSAddress(out, "getAgentWallet")
}

// TokenURI returns the agent's registration file URI, ERC-721
// tokenURI(agentId); an agent that does not exist gives ErrNotRegistered.
func (a *AgentRegistries) TokenURI(ctx context.Context, reg siwe.Registry, id int64) (string, error) {
	out, err := a.call(ctx, reg, tokenURISelector, id, "tokenURI")
	if err != nil {
		return "", err
	}
	b, err := decodeENSString(out)
	if err != nil {
		return "", fmt.Errorf("agent registry %s: tokenURI: malformed answer: %w", reg, err)
	}
	if len(b) > maxTokenURILen {
		return "", fmt.Errorf("agent registry %s: tokenURI: longer than %d bytes", reg, maxTokenURILen)
	}
	return string(b), nil
}

// call runs one eth_call of selector(id) on the registry in the latest
// block. A revert, or no code at the registry (an empty answer), gives
// ErrNotRegistered; a node that fails or does not answer in time, an error
// that wraps the cause.
func (a *AgentRegistries) call(ctx context.Context, reg siwe.Registry, selector string, id int64, what string) ([]byte, error) {
	if !a.Reads(reg.ChainID) {
		return nil, ErrNoRPC
	}
	caller := a.callers[reg.ChainID]
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	data := append([]byte(selector), common.LeftPadBytes(big.NewInt(id).Bytes(), ensWord)...)
	out, err := caller.CallContract(ctx, ethereum.CallMsg{To: &reg.Address, Data: data}, nil)
	switch {
	case err != nil && ctx.Err() == nil && isENSRevert(err):
		return nil, ErrNotRegistered
	case err != nil:
		return nil, fmt.Errorf("agent registry %s: %s(%d): %w", reg, what, id, err)
	case len(out) == 0:
		return nil, ErrNotRegistered
	}
	return out, nil
}
