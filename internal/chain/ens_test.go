package chain_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/siwe"
)

// Primary ENS names (chain.ENS) on go-ethereum's simulated chain, with the
// minimal registry and resolver of siwe/testdata/contracts, and against RPC
// endpoints that fail, hang or answer garbage.

func TestENSRegistryAddress(t *testing.T) {
	if got := common.HexToAddress(chain.ENSRegistry).Hex(); got != chain.ENSRegistry {
		t.Fatalf("ENSRegistry %s is not EIP-55: %s", chain.ENSRegistry, got)
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
		if got := chaintest.ENSNamehash(name).Hex(); got != want {
			t.Errorf("namehash(%q) = %s, want %s", name, got, want)
		}
	}
}

func TestENSName(t *testing.T) {
	c := chaintest.NewENS(t)
	ens := chain.NewENS(c.Chain.Client(), c.Registry, 0)

	addr := func(b byte) common.Address {
		// Mixed-case hex in EIP-55 form: the reverse label must be lowercase.
		return common.HexToAddress(fmt.Sprintf("0xAbCdEf%s%02x", strings.Repeat("0", 32), b))
	}
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	mallory := common.HexToAddress("0xBADBADbad0000000000000000000000000000001")
	nobody := common.HexToAddress("0x000000000000000000000000000000000000dEaD")

	// alice.eth ⇄ alice: a primary name.
	c.SetAddr(t, "alice.eth", alice)
	c.SetReverse(t, alice, "alice.eth")
	// mallory claims alice.eth, which points at alice: a spoof.
	c.SetReverse(t, mallory, "alice.eth")

	// The other records each break one step of the lookup.
	noForward, emptyName, zeroAddr := addr(1), addr(2), addr(3)
	c.SetReverse(t, noForward, "ghost.eth") // ghost.eth has no resolver
	c.SetReverse(t, emptyName, "")
	c.SetAddr(t, "zero.eth", common.Address{})
	c.SetReverse(t, zeroAddr, "zero.eth")

	nameRevert, addrRevert, noCode := addr(4), addr(5), addr(6)
	// The registry has no name(bytes32) or addr(bytes32): calls revert.
	c.SetResolver(t, chaintest.ENSReverseName(nameRevert), c.Registry)
	c.SetResolver(t, "broken.eth", c.Registry)
	c.SetReverse(t, addrRevert, "broken.eth")
	// A resolver without code answers every call with nothing.
	c.SetResolver(t, chaintest.ENSReverseName(noCode), nobody)

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
		c.SetAddr(t, name, a)
		c.SetReverse(t, a, name)
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
		return nil, chaintest.ErrDeadNode
	}
	return f.next.CallContract(ctx, call, b)
}

// TestENSRPCFailure: an endpoint that fails at any of the four calls of a
// lookup gives "" and an error naming the call and wrapping the cause.
func TestENSRPCFailure(t *testing.T) {
	c := chaintest.NewENS(t)
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	c.SetAddr(t, "alice.eth", alice)
	c.SetReverse(t, alice, "alice.eth")
	reverse, forward := chaintest.ENSNamehash(chaintest.ENSReverseName(alice)), chaintest.ENSNamehash("alice.eth")

	for n, want := range []string{
		fmt.Sprintf("ens: registry %s resolver(%s): %v", c.Registry.Hex(), reverse.Hex(), chaintest.ErrDeadNode),
		fmt.Sprintf("ens: resolver %s name(%s): %v", c.Resolver.Hex(), reverse.Hex(), chaintest.ErrDeadNode),
		fmt.Sprintf("ens: registry %s resolver(%s): %v", c.Registry.Hex(), forward.Hex(), chaintest.ErrDeadNode),
		fmt.Sprintf("ens: resolver %s addr(%s): %v", c.Resolver.Hex(), forward.Hex(), chaintest.ErrDeadNode),
	} {
		t.Run(fmt.Sprintf("call %d fails", n+1), func(t *testing.T) {
			ens := chain.NewENS(&failAfter{next: c.Chain.Client(), n: n}, c.Registry, 0)
			got, err := ens.Name(context.Background(), alice)
			if got != "" || !errors.Is(err, chaintest.ErrDeadNode) || err.Error() != want {
				t.Fatalf("Name = %q, %v; want \"\", %s", got, err, want)
			}
		})
	}
	t.Run("no call fails", func(t *testing.T) {
		ens := chain.NewENS(&failAfter{next: c.Chain.Client(), n: 4}, c.Registry, 0)
		if got, err := ens.Name(context.Background(), alice); got != "alice.eth" || err != nil {
			t.Fatalf("Name = %q, %v; want alice.eth, nil", got, err)
		}
	})
	t.Run("dead node", func(t *testing.T) {
		ens := chain.NewENS(chaintest.DeadCaller{}, common.HexToAddress(chain.ENSRegistry), 0)
		got, err := ens.Name(context.Background(), alice)
		if got != "" || !errors.Is(err, chaintest.ErrDeadNode) {
			t.Fatalf("Name = %q, %v; want \"\" and %v", got, err, chaintest.ErrDeadNode)
		}
	})
}

// TestENSTimeout: an endpoint that never answers gives an error once the
// timeout has passed, and a lookup never outlives its caller's context.
func TestENSTimeout(t *testing.T) {
	alice := common.HexToAddress("0xA11cE00000000000000000000000000000ABcDEf")
	registry := common.HexToAddress(chain.ENSRegistry)

	t.Run("hanging node, 100ms", func(t *testing.T) {
		ens := chain.NewENS(chaintest.HangingCaller{}, registry, 100*time.Millisecond)
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
		ens := chain.NewENS(chaintest.HangingCaller{}, registry, time.Minute)
		got, err := ens.Name(ctx, alice)
		if got != "" || !errors.Is(err, context.Canceled) {
			t.Fatalf("Name = %q, %v; want \"\" and %v", got, err, context.Canceled)
		}
	})
	for _, tc := range []struct {
		timeout, want time.Duration
	}{
		{0, chain.DefaultENSTimeout},
		{-time.Second, chain.DefaultENSTimeout},
		{100 * time.Millisecond, 100 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("deadline for timeout %v", tc.timeout), func(t *testing.T) {
			caller := &deadlineCaller{}
			ens := chain.NewENS(caller, registry, tc.timeout)
			before := time.Now()
			if _, err := ens.Name(context.Background(), alice); !errors.Is(err, chaintest.ErrDeadNode) {
				t.Fatalf("Name: %v, want %v", err, chaintest.ErrDeadNode)
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
	if chain.DefaultENSTimeout != 2*time.Second {
		t.Fatalf("DefaultENSTimeout = %v, want 2s", chain.DefaultENSTimeout)
	}
}

// deadlineCaller records the deadline of the first call and fails it.
type deadlineCaller struct {
	deadline time.Time
	ok       bool
}

func (d *deadlineCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	return nil, chaintest.ErrDeadNode
}

func (d *deadlineCaller) CallContract(ctx context.Context, _ ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	d.deadline, d.ok = ctx.Deadline()
	return nil, chaintest.ErrDeadNode
}

// scriptedCaller answers each function selector with fixed output.
type scriptedCaller map[string][]byte

func (s scriptedCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	return nil, chaintest.ErrDeadNode
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
			got, err := chain.NewENS(caller, common.HexToAddress(chain.ENSRegistry), 0).Name(context.Background(), alice)
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
