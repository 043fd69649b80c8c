package chain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/siwe"
)

// ERC-8004 identity registry reads (chain.AgentRegistries) on go-ethereum's
// simulated chain with TestAgentRegistry, and against RPC endpoints that
// are dead, hang or absent.

func TestAgentRegistryReads(t *testing.T) {
	ctx := context.Background()
	sim := chaintest.New(t)
	registry := chaintest.NewAgentRegistry(t, sim)
	reg := siwe.Registry{ChainID: sim.ChainID(), Address: registry.Address}
	ownerKey, _ := crypto.GenerateKey()
	owner := crypto.PubkeyToAddress(ownerKey.PublicKey)
	id := registry.Register(t, owner, "https://agents.example/7.json")
	reads := chain.NewAgentRegistries(map[int64]siwe.ContractCaller{sim.ChainID(): sim.Client()}, 0)

	if !reads.Reads(sim.ChainID()) || reads.Reads(1) {
		t.Fatal("Reads does not follow the configured chains")
	}
	if got, err := reads.Owner(ctx, reg, id); err != nil || got != owner {
		t.Fatalf("Owner = %s, %v; want %s", got, err, owner)
	}
	if got, err := reads.TokenURI(ctx, reg, id); err != nil || got != "https://agents.example/7.json" {
		t.Fatalf("TokenURI = %q, %v", got, err)
	}
	if got, err := reads.Wallet(ctx, reg, id); err != nil || got != (common.Address{}) {
		t.Fatalf("Wallet before one is set = %s, %v", got, err)
	}
	wallet := common.HexToAddress("0x00000000000000000000000000000000000A9e47")
	registry.SetWallet(t, ownerKey, id, wallet)
	if got, err := reads.Wallet(ctx, reg, id); err != nil || got != wallet {
		t.Fatalf("Wallet = %s, %v; want %s", got, err, wallet)
	}

	// A transfer is seen at once, and clears the agent wallet.
	next := common.HexToAddress("0x00000000000000000000000000000000000000b0")
	registry.Transfer(t, ownerKey, next, id)
	if got, err := reads.Owner(ctx, reg, id); err != nil || got != next {
		t.Fatalf("Owner after the transfer = %s, %v; want %s", got, err, next)
	}
	if got, err := reads.Wallet(ctx, reg, id); err != nil || got != (common.Address{}) {
		t.Fatalf("Wallet after the transfer = %s, %v", got, err)
	}

	// No such agent: ownerOf and tokenURI revert; the wallet is none.
	if _, err := reads.Owner(ctx, reg, id+100); !errors.Is(err, chain.ErrNotRegistered) {
		t.Fatalf("Owner of an unknown agent: %v", err)
	}
	if _, err := reads.TokenURI(ctx, reg, id+100); !errors.Is(err, chain.ErrNotRegistered) {
		t.Fatalf("TokenURI of an unknown agent: %v", err)
	}
	if got, err := reads.Wallet(ctx, reg, id+100); err != nil || got != (common.Address{}) {
		t.Fatalf("Wallet of an unknown agent = %s, %v", got, err)
	}
	// A registry address without code has no agents.
	empty := siwe.Registry{ChainID: sim.ChainID(), Address: common.HexToAddress("0x8004000000000000000000000000000000000000")}
	if _, err := reads.Owner(ctx, empty, id); !errors.Is(err, chain.ErrNotRegistered) {
		t.Fatalf("Owner at an address without code: %v", err)
	}
}

func TestAgentRegistryNodeFailures(t *testing.T) {
	ctx := context.Background()
	reg := siwe.Registry{ChainID: 84532, Address: common.HexToAddress("0x8004A818BFB912233c491871b3d84c89A494BD9e")}
	if _, err := chain.NewAgentRegistries(nil, 0).Owner(ctx, reg, 1); !errors.Is(err, chain.ErrNoRPC) {
		t.Fatalf("no RPC: %v", err)
	}
	var none *chain.AgentRegistries
	if none.Reads(84532) {
		t.Fatal("a nil AgentRegistries reads")
	}
	dead := chain.NewAgentRegistries(map[int64]siwe.ContractCaller{84532: chaintest.DeadCaller{}}, 0)
	for name, read := range map[string]func() error{
		"Owner":    func() error { _, err := dead.Owner(ctx, reg, 1); return err },
		"Wallet":   func() error { _, err := dead.Wallet(ctx, reg, 1); return err },
		"TokenURI": func() error { _, err := dead.TokenURI(ctx, reg, 1); return err },
	} {
		if err := read(); err == nil || errors.Is(err, chain.ErrNotRegistered) || !errors.Is(err, chaintest.ErrDeadNode) {
			t.Errorf("%s on a dead node: %v", name, err)
		}
	}
	hanging := chain.NewAgentRegistries(map[int64]siwe.ContractCaller{84532: chaintest.HangingCaller{}}, 50*time.Millisecond)
	start := time.Now()
	if _, err := hanging.Owner(ctx, reg, 1); err == nil || errors.Is(err, chain.ErrNotRegistered) {
		t.Fatalf("a node that never answers: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the read waited %s despite a 50ms timeout", d)
	}
}
