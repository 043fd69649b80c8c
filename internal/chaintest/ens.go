package chaintest

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// The ENS fixture: the minimal registry and resolver of the test
// contracts, for tests of primary-name lookups.

// ENSNamehash is EIP-137's namehash, written independently of the resolver's
// and checked against the EIP's examples in the chain package's tests.
func ENSNamehash(name string) common.Hash {
	var node common.Hash
	if name == "" {
		return node
	}
	labels := strings.Split(name, ".")
	for i := len(labels) - 1; i >= 0; i-- {
		node = crypto.Keccak256Hash(node[:], crypto.Keccak256([]byte(labels[i])))
	}
	return node
}

// ENSReverseName is addr's ENSIP-3 reverse name, <lowercase hex>.addr.reverse.
func ENSReverseName(addr common.Address) string {
	return hex.EncodeToString(addr[:]) + ".addr.reverse"
}

// ENS is a simulated chain with TestENSRegistry and one TestENSResolver;
// the deployer owns the root node, so it may create and set every name.
type ENS struct {
	Chain    *Chain
	Registry common.Address
	Resolver common.Address
	owner    common.Address
	claimed  map[common.Hash]bool
}

// NewENS deploys the test ENS registry and resolver on a new chain.
func NewENS(t testing.TB) *ENS {
	t.Helper()
	chain := New(t)
	registry := chain.Deploy(t, Contract(t, "TestENSRegistry"))
	resolver := chain.Deploy(t, WithArgs(t, Contract(t, "TestENSResolver"), []string{"address"}, registry))
	c := &ENS{Chain: chain, Registry: registry, Resolver: resolver, claimed: map[common.Hash]bool{{}: true}}
	out, err := chain.Client().CallContract(context.Background(), ethereum.CallMsg{
		To:   &registry,
		Data: ensCalldata(t, "owner(bytes32)", []string{"bytes32"}, common.Hash{}),
	}, nil)
	if err != nil || len(out) != 32 {
		t.Fatalf("registry owner(root): %x, %v", out, err)
	}
	c.owner = common.BytesToAddress(out)
	return c
}

// ensCalldata is the calldata of the function with signature sig.
func ensCalldata(t testing.TB, sig string, types []string, args ...any) []byte {
	t.Helper()
	return append(crypto.Keccak256([]byte(sig))[:4], Pack(t, types, args...)...)
}

// Claim gives every node on the path to name to the deployer and returns
// name's node.
func (c *ENS) Claim(t testing.TB, name string) common.Hash {
	t.Helper()
	labels := strings.Split(name, ".")
	var parent common.Hash
	for i := len(labels) - 1; i >= 0; i-- {
		label := crypto.Keccak256Hash([]byte(labels[i]))
		node := crypto.Keccak256Hash(parent[:], label[:])
		if !c.claimed[node] {
			c.Chain.Send(t, &c.Registry, ensCalldata(t, "setSubnodeOwner(bytes32,bytes32,address)",
				[]string{"bytes32", "bytes32", "address"}, parent, label, c.owner))
			c.claimed[node] = true
		}
		parent = node
	}
	if parent != ENSNamehash(name) {
		t.Fatalf("node of %q: %s, namehash %s", name, parent, ENSNamehash(name))
	}
	return parent
}

// SetResolver claims name and sets its resolver in the registry.
func (c *ENS) SetResolver(t testing.TB, name string, resolver common.Address) common.Hash {
	t.Helper()
	node := c.Claim(t, name)
	c.Chain.Send(t, &c.Registry, ensCalldata(t, "setResolver(bytes32,address)",
		[]string{"bytes32", "address"}, node, resolver))
	return node
}

// SetAddr points name at addr through the test resolver.
func (c *ENS) SetAddr(t testing.TB, name string, addr common.Address) {
	t.Helper()
	node := c.SetResolver(t, name, c.Resolver)
	c.Chain.Send(t, &c.Resolver, ensCalldata(t, "setAddr(bytes32,address)",
		[]string{"bytes32", "address"}, node, addr))
}

// SetReverse gives addr's reverse node the name record name in the test
// resolver: addr claims name as its primary name.
func (c *ENS) SetReverse(t testing.TB, addr common.Address, name string) {
	t.Helper()
	node := c.SetResolver(t, ENSReverseName(addr), c.Resolver)
	c.Chain.Send(t, &c.Resolver, ensCalldata(t, "setName(bytes32,string)",
		[]string{"bytes32", "string"}, node, name))
}
