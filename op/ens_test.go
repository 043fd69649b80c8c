package op_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

// Primary ENS names (op.ENS) on go-ethereum's simulated chain, with the
// minimal registry and resolver of siwe/testdata/contracts, and against RPC
// endpoints that fail, hang or answer garbage.

var _ op.NameResolver = (*op.ENS)(nil)

// ensNamehash is EIP-137's namehash, written independently of op's and
// checked against the EIP's examples in TestENSNamehash.
func ensNamehash(name string) common.Hash {
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

// ensReverseName is addr's ENSIP-3 reverse name, <lowercase hex>.addr.reverse.
func ensReverseName(addr common.Address) string {
	return hex.EncodeToString(addr[:]) + ".addr.reverse"
}

// ensChain is a simulated chain with TestENSRegistry and one TestENSResolver;
// the deployer owns the root node, so it may create and set every name.
type ensChain struct {
	chain    *chaintest.Chain
	registry common.Address
	resolver common.Address
	owner    common.Address
	claimed  map[common.Hash]bool
}

func newENSChain(t testing.TB) *ensChain {
	t.Helper()
	chain := chaintest.New(t)
	registry := chain.Deploy(t, chaintest.Contract(t, "TestENSRegistry"))
	resolver := chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "TestENSResolver"), []string{"address"}, registry))
	c := &ensChain{chain: chain, registry: registry, resolver: resolver, claimed: map[common.Hash]bool{{}: true}}
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
	return append(crypto.Keccak256([]byte(sig))[:4], chaintest.Pack(t, types, args...)...)
}

// claim gives every node on the path to name to the deployer and returns
// name's node.
func (c *ensChain) claim(t testing.TB, name string) common.Hash {
	t.Helper()
	labels := strings.Split(name, ".")
	var parent common.Hash
	for i := len(labels) - 1; i >= 0; i-- {
		label := crypto.Keccak256Hash([]byte(labels[i]))
		node := crypto.Keccak256Hash(parent[:], label[:])
		if !c.claimed[node] {
			c.chain.Send(t, &c.registry, ensCalldata(t, "setSubnodeOwner(bytes32,bytes32,address)",
				[]string{"bytes32", "bytes32", "address"}, parent, label, c.owner))
			c.claimed[node] = true
		}
		parent = node
	}
	if parent != ensNamehash(name) {
		t.Fatalf("node of %q: %s, namehash %s", name, parent, ensNamehash(name))
	}
	return parent
}

// setResolver claims name and sets its resolver in the registry.
func (c *ensChain) setResolver(t testing.TB, name string, resolver common.Address) common.Hash {
	t.Helper()
	node := c.claim(t, name)
	c.chain.Send(t, &c.registry, ensCalldata(t, "setResolver(bytes32,address)",
		[]string{"bytes32", "address"}, node, resolver))
	return node
}

// setAddr points name at addr through the test resolver.
func (c *ensChain) setAddr(t testing.TB, name string, addr common.Address) {
	t.Helper()
	node := c.setResolver(t, name, c.resolver)
	c.chain.Send(t, &c.resolver, ensCalldata(t, "setAddr(bytes32,address)",
		[]string{"bytes32", "address"}, node, addr))
}

// setReverse gives addr's reverse node the name record name in the test
// resolver: addr claims name as its primary name.
func (c *ensChain) setReverse(t testing.TB, addr common.Address, name string) {
	t.Helper()
	node := c.setResolver(t, ensReverseName(addr), c.resolver)
	c.chain.Send(t, &c.resolver, ensCalldata(t, "setName(bytes32,string)",
		[]string{"bytes32", "string"}, node, name))
}

func TestENSRegistryAddress(t *testing.T) {
	if got := common.HexToAddress(op.ENSRegistry).Hex(); got != op.ENSRegistry {
		t.Fatalf("ENSRegistry %s is not EIP-55: %s", op.ENSRegistry, got)
	}
}

// TestENSNamehash pins the test's namehash to EIP-137's examples; the
// lookups below then show that op's namehash agrees with it.
func TestENSNamehash(t *testing.T) {
	for name, want := range map[string]string{
		"":        "0x0000000000000000000000000000000000000000000000000000000000000000",
		"eth":     "0x93cdeb708b7545dc668eb9280176169d1c33cfd8ed6f04690a0bcc88a93fc4ae",
		"foo.eth": "0xde9b09fd7c5f901e23a3f19fecc54828e9c848539801e86591bd9801b019f84f",
	} {
		if got := ensNamehash(name).Hex(); got != want {
			t.Errorf("namehash(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestENSName(t *testing.T) {
	c := newENSChain(t)
	ens := op.NewENS(c.chain.Client(), c.registry, 0)

	addr := func(b byte) common.Address {
		// Mixed-case hex in EIP-55 form: the reverse label must be lowercase.
		return common.HexToAddress(fmt.Sprintf("0xAbCdEf%s%02x", strings.Repeat("0", 32), b))
	}
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	mallory := common.HexToAddress("0xBADBADbad0000000000000000000000000000001")
	nobody := common.HexToAddress("0x000000000000000000000000000000000000dEaD")

	// alice.eth ⇄ alice: a primary name.
	c.setAddr(t, "alice.eth", alice)
	c.setReverse(t, alice, "alice.eth")
	// mallory claims alice.eth, which points at alice: a spoof.
	c.setReverse(t, mallory, "alice.eth")

	// The other records each break one step of the lookup.
	noForward, emptyName, zeroAddr := addr(1), addr(2), addr(3)
	c.setReverse(t, noForward, "ghost.eth") // ghost.eth has no resolver
	c.setReverse(t, emptyName, "")
	c.setAddr(t, "zero.eth", common.Address{})
	c.setReverse(t, zeroAddr, "zero.eth")

	nameRevert, addrRevert, noCode := addr(4), addr(5), addr(6)
	// The registry has no name(bytes32) or addr(bytes32): calls revert.
	c.setResolver(t, ensReverseName(nameRevert), c.registry)
	c.setResolver(t, "broken.eth", c.registry)
	c.setReverse(t, addrRevert, "broken.eth")
	// A resolver without code answers every call with nothing.
	c.setResolver(t, ensReverseName(noCode), nobody)

	// Names that resolve forward, but that are not fit to be usernames, and
	// the longest name that is.
	longest, tooLong, control, notUTF8, unicodeName := addr(7), addr(8), addr(9), addr(10), addr(11)
	names := map[common.Address]string{
		longest:     strings.Repeat("a", 251) + ".eth", // 255 bytes
		tooLong:     strings.Repeat("b", 252) + ".eth", // 256 bytes
		control:     "eve\n.eth",
		notUTF8:     "\xff.eth",
		unicodeName: "álice.eth",
	}
	for a, name := range names {
		c.setAddr(t, name, a)
		c.setReverse(t, a, name)
	}

	for _, tc := range []struct {
		what string
		addr common.Address
		want string
	}{
		{"primary name", alice, "alice.eth"},
		{"no reverse record", nobody, ""},
		{"reverse name whose forward record is another address (spoof)", mallory, ""},
		{"reverse name without a resolver", noForward, ""},
		{"empty reverse name", emptyName, ""},
		{"forward record of zero", zeroAddr, ""},
		{"reverse resolver without name()", nameRevert, ""},
		{"forward resolver without addr()", addrRevert, ""},
		{"reverse resolver without code", noCode, ""},
		{"255-byte name", longest, names[longest]},
		{"256-byte name", tooLong, ""},
		{"control character", control, ""},
		{"not UTF-8", notUTF8, ""},
		{"non-ASCII name, hashed as it is", unicodeName, "álice.eth"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			got, err := ens.Name(context.Background(), tc.addr)
			if err != nil || got != tc.want {
				t.Fatalf("Name(%s) = %q, %v; want %q, nil", tc.addr, got, err, tc.want)
			}
		})
	}
}

// failAfter passes the first n calls to next and fails the others.
type failAfter struct {
	next siwe.ContractCaller
	mu   sync.Mutex
	n    int
}

func (f *failAfter) CodeAt(ctx context.Context, a common.Address, b *big.Int) ([]byte, error) {
	return f.next.CodeAt(ctx, a, b)
}

func (f *failAfter) CallContract(ctx context.Context, call ethereum.CallMsg, b *big.Int) ([]byte, error) {
	f.mu.Lock()
	pass := f.n > 0
	f.n--
	f.mu.Unlock()
	if !pass {
		return nil, errDeadNode
	}
	return f.next.CallContract(ctx, call, b)
}

// TestENSRPCFailure: an endpoint that fails at any of the four calls of a
// lookup gives "" and an error naming the call and wrapping the cause.
func TestENSRPCFailure(t *testing.T) {
	c := newENSChain(t)
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	c.setAddr(t, "alice.eth", alice)
	c.setReverse(t, alice, "alice.eth")
	reverse, forward := ensNamehash(ensReverseName(alice)), ensNamehash("alice.eth")

	for n, want := range []string{
		fmt.Sprintf("ens: registry %s resolver(%s): %v", c.registry.Hex(), reverse.Hex(), errDeadNode),
		fmt.Sprintf("ens: resolver %s name(%s): %v", c.resolver.Hex(), reverse.Hex(), errDeadNode),
		fmt.Sprintf("ens: registry %s resolver(%s): %v", c.registry.Hex(), forward.Hex(), errDeadNode),
		fmt.Sprintf("ens: resolver %s addr(%s): %v", c.resolver.Hex(), forward.Hex(), errDeadNode),
	} {
		t.Run(fmt.Sprintf("call %d fails", n+1), func(t *testing.T) {
			ens := op.NewENS(&failAfter{next: c.chain.Client(), n: n}, c.registry, 0)
			got, err := ens.Name(context.Background(), alice)
			if got != "" || !errors.Is(err, errDeadNode) || err.Error() != want {
				t.Fatalf("Name = %q, %v; want \"\", %s", got, err, want)
			}
		})
	}
	t.Run("no call fails", func(t *testing.T) {
		ens := op.NewENS(&failAfter{next: c.chain.Client(), n: 4}, c.registry, 0)
		if got, err := ens.Name(context.Background(), alice); got != "alice.eth" || err != nil {
			t.Fatalf("Name = %q, %v; want alice.eth, nil", got, err)
		}
	})
	t.Run("dead node", func(t *testing.T) {
		ens := op.NewENS(deadCaller{}, common.HexToAddress(op.ENSRegistry), 0)
		got, err := ens.Name(context.Background(), alice)
		if got != "" || !errors.Is(err, errDeadNode) {
			t.Fatalf("Name = %q, %v; want \"\" and %v", got, err, errDeadNode)
		}
	})
}

// TestENSTimeout: an endpoint that never answers gives an error once the
// timeout has passed, and a lookup never outlives its caller's context.
func TestENSTimeout(t *testing.T) {
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	registry := common.HexToAddress(op.ENSRegistry)

	t.Run("hanging node, 100ms", func(t *testing.T) {
		ens := op.NewENS(hangingCaller{}, registry, 100*time.Millisecond)
		start := time.Now()
		got, err := ens.Name(context.Background(), alice)
		elapsed := time.Since(start)
		if got != "" || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Name = %q, %v; want \"\" and %v", got, err, context.DeadlineExceeded)
		}
		if elapsed < 100*time.Millisecond || elapsed > time.Second {
			t.Fatalf("gave up after %v, want 100ms", elapsed)
		}
	})
	t.Run("caller's context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		ens := op.NewENS(hangingCaller{}, registry, time.Minute)
		got, err := ens.Name(ctx, alice)
		if got != "" || !errors.Is(err, context.Canceled) {
			t.Fatalf("Name = %q, %v; want \"\" and %v", got, err, context.Canceled)
		}
	})
	for _, tc := range []struct {
		timeout, want time.Duration
	}{
		{0, op.DefaultENSTimeout},
		{-time.Second, op.DefaultENSTimeout},
		{100 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("deadline for timeout %v", tc.timeout), func(t *testing.T) {
			caller := &deadlineCaller{}
			ens := op.NewENS(caller, registry, tc.timeout)
			before := time.Now()
			if _, err := ens.Name(context.Background(), alice); !errors.Is(err, errDeadNode) {
				t.Fatalf("Name: %v, want %v", err, errDeadNode)
			}
			after := time.Now()
			if !caller.ok {
				t.Fatal("the call had no deadline")
			}
			// The deadline is set between the start and the end of Name.
			if caller.deadline.Before(before.Add(tc.want)) || caller.deadline.After(after.Add(tc.want)) {
				t.Fatalf("deadline %v after the start of Name (which took %v), want %v",
					caller.deadline.Sub(before), after.Sub(before), tc.want)
			}
		})
	}
	if op.DefaultENSTimeout != 2*time.Second {
		t.Fatalf("DefaultENSTimeout = %v, want 2s", op.DefaultENSTimeout)
	}
}

// deadlineCaller records the deadline of the first call and fails it.
type deadlineCaller struct {
	deadline time.Time
	ok       bool
}

func (d *deadlineCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	return nil, errDeadNode
}

func (d *deadlineCaller) CallContract(ctx context.Context, _ ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	d.deadline, d.ok = ctx.Deadline()
	return nil, errDeadNode
}

// scriptedCaller answers each function selector with fixed output.
type scriptedCaller map[string][]byte

func (s scriptedCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	return nil, errDeadNode
}

func (s scriptedCaller) CallContract(_ context.Context, call ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	return s[string(call.Data[:4])], nil
}

// TestENSMalformedAnswers: answers that are not the ABI encoding of the
// expected type are errors; an ABI string that is not in the usual
// position still decodes, and one that is too long is no name.
func TestENSMalformedAnswers(t *testing.T) {
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	word := func(n uint64) []byte { return common.LeftPadBytes(new(big.Int).SetUint64(n).Bytes(), 32) }
	join := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	pad := func(s string) []byte { return common.RightPadBytes([]byte(s), (len(s)+31)/32*32) }
	resolver := common.LeftPadBytes(common.HexToAddress("0x1111111111111111111111111111111111111111").Bytes(), 32)
	aliceWord := common.LeftPadBytes(alice.Bytes(), 32)
	const (
		selResolver = "\x01\x78\xb8\xbf"
		selName     = "\x69\x1f\x34\x31"
		selAddr     = "\x3b\x3b\x57\xde"
	)
	for _, tc := range []struct {
		what    string
		name    []byte
		addr    []byte
		want    string
		wantErr string // "" for none
	}{
		{"standard string", join(word(32), word(9), pad("alice.eth")), aliceWord, "alice.eth", ""},
		{"string at a later offset", join(word(64), word(0), word(9), pad("alice.eth")), aliceWord, "alice.eth", ""},
		{"string without padding", join(word(32), word(9), []byte("alice.eth")), aliceWord, "alice.eth", ""},
		{"256-byte string", join(word(32), word(256), pad(strings.Repeat("a", 256))), aliceWord, "", ""},
		{"string length past the end", join(word(32), word(10), pad("alice.eth")[:9]), aliceWord, "", "string length out of range"},
		{"string offset past the end", join(word(96), word(9), pad("alice.eth")), aliceWord, "", "string offset out of range"},
		{"huge string length", join(word(32), common.MaxHash[:], pad("alice.eth")), aliceWord, "", "string length out of range"},
		{"short string answer", []byte{0, 0, 0x20}, aliceWord, "", "shorter than one ABI word"},
		{"address with high bytes", join(word(32), word(9), pad("alice.eth")), common.MaxHash[:], "", "not an ABI address"},
		{"short address", join(word(32), word(9), pad("alice.eth")), aliceWord[:31], "", "not an ABI address"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			caller := scriptedCaller{selResolver: resolver, selName: tc.name, selAddr: tc.addr}
			got, err := op.NewENS(caller, common.HexToAddress(op.ENSRegistry), 0).Name(context.Background(), alice)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Name = %q, %v; want %q, nil", got, err, tc.want)
			case tc.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), "malformed answer: "+tc.wantErr)):
				t.Fatalf("Name = %q, %v; want an error ending %q", got, err, tc.wantErr)
			case got != tc.want:
				t.Fatalf("Name = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestENSNameInTokens: with a chain-1 name resolver configured, scope
// profile gives preferred_username = the account's verified ENS name, in the
// ID token and userinfo; an account without one keeps its address.
func TestENSNameInTokens(t *testing.T) {
	ens := newENSChain(t)
	alice, bob := newWallet(t), newWallet(t)
	aliceAddr := common.HexToAddress(alice.Address())
	ens.setAddr(t, "alice.eth", aliceAddr)
	ens.setReverse(t, aliceAddr, "alice.eth")
	resolver := op.NewENS(ens.chain.Client(), ens.registry, time.Second)
	ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "", func(d *op.Deps) { d.Names = resolver })
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)

	for _, tc := range []struct {
		w    *wallet
		want string
	}{{alice, "alice.eth"}, {bob, bob.Address()}} {
		n := nonceFor(t, ts, map[string]any{"address": tc.w.Address(), "client_id": c.ID, "scope": "openid profile"})
		msg := n["message"].(string)
		resp, tok := verifyJSON(t, ts, msg, tc.w.Sign(t, msg))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("verify: %d %v", resp.StatusCode, tok)
		}
		_, claims := verifyIDToken(t, app, tok["id_token"].(string))
		if claims["preferred_username"] != tc.want {
			t.Errorf("preferred_username = %v, want %s", claims["preferred_username"], tc.want)
		}
		ui, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok["access_token"].(string)}))
		if err != nil {
			t.Fatal(err)
		}
		var uiClaims map[string]any
		_ = ui.Claims(&uiClaims)
		if uiClaims["preferred_username"] != tc.want {
			t.Errorf("userinfo preferred_username = %v, want %s", uiClaims["preferred_username"], tc.want)
		}
	}
}
