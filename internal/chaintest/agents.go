package chaintest

import (
	"crypto/ecdsa"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The agent fixture: TestAgentRegistry, a minimal ERC-8004 identity
// registry, for tests of agent sign-ins (SIWA).

// AgentRegistry is TestAgentRegistry deployed on a simulated chain.
type AgentRegistry struct {
	// Chain is the chain it is deployed on.
	Chain *Chain
	// Address is the registry contract.
	Address common.Address
}

// NewAgentRegistry deploys TestAgentRegistry on chain.
func NewAgentRegistry(t testing.TB, chain *Chain) *AgentRegistry {
	t.Helper()
	return &AgentRegistry{Chain: chain, Address: chain.Deploy(t, Contract(t, "TestAgentRegistry"))}
}

// call is the calldata of the registry function sig with ABI-encoded args.
func call(t testing.TB, sig string, types []string, args ...any) []byte {
	t.Helper()
	return append(crypto.Keccak256([]byte(sig))[:4], Pack(t, types, args...)...)
}

// Register registers a new agent for owner with its registration file URI
// and returns its ID (the registry numbers them 1, 2, …).
func (r *AgentRegistry) Register(t testing.TB, owner common.Address, uri string) int64 {
	t.Helper()
	receipt := r.Chain.Send(t, &r.Address, call(t, "register(address,string)", []string{"address", "string"}, owner, uri))
	registered := crypto.Keccak256Hash([]byte("Registered(uint256,string,address)"))
	for _, l := range receipt.Logs {
		if len(l.Topics) > 1 && l.Topics[0] == registered {
			return new(big.Int).SetBytes(l.Topics[1][:]).Int64()
		}
	}
	t.Fatal("register: no Registered event")
	return 0
}

// Transfer moves agent id from the owner of ownerKey to to; the owner's
// account pays the gas, so it is funded first.
func (r *AgentRegistry) Transfer(t testing.TB, ownerKey *ecdsa.PrivateKey, to common.Address, id int64) {
	t.Helper()
	from := crypto.PubkeyToAddress(ownerKey.PublicKey)
	r.Chain.Fund(t, from)
	r.Chain.SendFrom(t, ownerKey, &r.Address, call(t, "transferFrom(address,address,uint256)",
		[]string{"address", "address", "uint256"}, from, to, big.NewInt(id)))
}

// SetWallet sets agent id's agent wallet, as its owner (ownerKey).
func (r *AgentRegistry) SetWallet(t testing.TB, ownerKey *ecdsa.PrivateKey, id int64, wallet common.Address) {
	t.Helper()
	r.Chain.Fund(t, crypto.PubkeyToAddress(ownerKey.PublicKey))
	r.Chain.SendFrom(t, ownerKey, &r.Address, call(t, "setAgentWallet(uint256,address)", []string{"uint256", "address"}, big.NewInt(id), wallet))
}

// Fund sends 1 ether from the deployer to addr, and makes sure that the
// transaction pool has seen it, so that addr can send at once.
func (c *Chain) Fund(t testing.TB, addr common.Address) *types.Receipt {
	t.Helper()
	receipt := c.send(t, c.key, &addr, big.NewInt(1e18), nil)
	// The pool resets to a new head in the background; sealing the next
	// block waits for that reset first. Without it, addr's first
	// transaction may be checked against its balance before the funding.
	c.backend.Commit()
	return receipt
}
