package chain

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/siwe"
)

// ENSRegistry is the ENS registry's address on Ethereum mainnet (EIP-55);
// pass common.HexToAddress(ENSRegistry) to [NewENS].
const ENSRegistry = "0x00000000000C2E074eC69A0dFb2997BA6C7d2e1e"

// DefaultENSTimeout bounds one [ENS.Name] lookup, all of its calls together,
// when [NewENS] is given no timeout.
const DefaultENSTimeout = 2 * time.Second

// maxENSNameLen is the longest primary name accepted, in bytes (a DNS
// name's limit).
const maxENSNameLen = 255

// Selectors of the three ENS calls of a primary-name lookup.
const (
	ensResolverSelector = "\x01\x78\xb8\xbf" // registry.resolver(bytes32) (EIP-137)
	ensNameSelector     = "\x69\x1f\x34\x31" // resolver.name(bytes32) (ENSIP-3)
	ensAddrSelector     = "\x3b\x3b\x57\xde" // resolver.addr(bytes32) (EIP-137)
)

// ensWord is the size of one ABI slot.
const ensWord = 32

// ENS finds an address's primary ENS name: the reverse record (ENSIP-3,
// <addr>.addr.reverse → resolver.name), accepted only when the name resolves
// forward to the same address (ENSIP-19 / ENS docs "primary name" rule).
//
// Names are not normalized (ENSIP-15): the reverse node's label is the
// address in lowercase hex, and the name from the reverse record is hashed
// as it is for the forward check, so a name that is not stored in normalized
// form fails that check. Only resolvers set directly in the registry are
// asked: there is no ENSIP-10 wildcard resolution and no CCIP-Read
// (EIP-3668), so names served that way are not found. Nothing is cached. Use
// [NewENS].
type ENS struct {
	caller   siwe.ContractCaller
	registry common.Address
	timeout  time.Duration
}

// NewENS returns an ENS that calls the registry at registry (on mainnet,
// [ENSRegistry]) and its resolvers through caller, giving each lookup at most
// timeout (zero or less: [DefaultENSTimeout]).
func NewENS(caller siwe.ContractCaller, registry common.Address, timeout time.Duration) *ENS {
	if timeout <= 0 {
		timeout = DefaultENSTimeout
	}
	return &ENS{caller: caller, registry: registry, timeout: timeout}
}

// Name returns addr's primary ENS name, or "" when it has none: no reverse
// resolver or name, a name that does not resolve forward to addr, or a name
// longer than 255 bytes, not UTF-8 or with control characters. A call that
// reverts, or an address without code, counts as a missing record. An RPC
// failure, or no answer within the timeout, gives "" and an error that wraps
// the cause.
func (e *ENS) Name(ctx context.Context, addr common.Address) (string, error) {
	if e == nil || e.caller == nil {
		return "", errors.New("ens: no RPC endpoint")
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()

	// ENSIP-3: the reverse node of addr.
	reverse := ensNamehash(hex.EncodeToString(addr[:]) + ".addr.reverse")
	resolver, err := e.resolver(ctx, reverse)
	if err != nil || resolver == (common.Address{}) {
		return "", err
	}
	name, err := e.name(ctx, resolver, reverse)
	if err != nil || !validENSName(name) {
		return "", err
	}

	// The forward check: the name must resolve to addr.
	node := ensNamehash(name)
	resolver, err = e.resolver(ctx, node)
	if err != nil || resolver == (common.Address{}) {
		return "", err
	}
	target, err := e.addr(ctx, resolver, node)
	if err != nil || target != addr {
		return "", err
	}
	return name, nil
}

// resolver asks the registry for node's resolver (zero for none).
func (e *ENS) resolver(ctx context.Context, node common.Hash) (common.Address, error) {
	what := fmt.Sprintf("registry %s resolver(%s)", e.registry.Hex(), node.Hex())
	out, err := e.call(ctx, e.registry, ensResolverSelector, node, what)
	if err != nil {
		return common.Address{}, err
	}
	return decodeENSAddress(out, what)
}

// addr asks resolver for node's Ethereum address (zero for none).
func (e *ENS) addr(ctx context.Context, resolver common.Address, node common.Hash) (common.Address, error) {
	what := fmt.Sprintf("resolver %s addr(%s)", resolver.Hex(), node.Hex())
	out, err := e.call(ctx, resolver, ensAddrSelector, node, what)
	if err != nil {
		return common.Address{}, err
	}
	return decodeENSAddress(out, what)
}

// name asks resolver for node's name record ("" for none). A name longer
// than maxENSNameLen is given as "" without being copied.
func (e *ENS) name(ctx context.Context, resolver common.Address, node common.Hash) (string, error) {
	what := fmt.Sprintf("resolver %s name(%s)", resolver.Hex(), node.Hex())
	out, err := e.call(ctx, resolver, ensNameSelector, node, what)
	if err != nil || len(out) == 0 {
		return "", err
	}
	b, err := decodeENSString(out)
	if err != nil {
		return "", fmt.Errorf("ens: %s: malformed answer: %w", what, err)
	}
	if len(b) > maxENSNameLen {
		return "", nil
	}
	return string(b), nil
}

// call runs one eth_call of selector(node) on to in the latest block. A call
// that reverts gives no output and no error: the record is missing, as it is
// when to has no code (an empty output).
func (e *ENS) call(ctx context.Context, to common.Address, selector string, node common.Hash, what string) ([]byte, error) {
	data := make([]byte, 0, len(selector)+len(node))
	data = append(data, selector...)
	data = append(data, node[:]...)
	out, err := e.caller.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, nil)
	if err != nil {
		if ctx.Err() == nil && isENSRevert(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("ens: %s: %w", what, err)
	}
	return out, nil
}

// isENSRevert reports whether err is a JSON-RPC error object saying that the
// EVM failed the call (code 3, "execution reverted", of the Ethereum JSON-RPC
// spec, or -32015, a VM execution error in go-ethereum and Nethermind),
// rather than a failure of the node or the transport.
func isENSRevert(err error) bool {
	var rpcErr interface {
		error
		ErrorCode() int
	}
	if !errors.As(err, &rpcErr) {
		return false
	}
	code := rpcErr.ErrorCode()
	return code == 3 || code == -32015
}

// decodeENSAddress decodes an ABI-encoded address; an empty output (no code
// at the callee, or a revert) is the zero address.
func decodeENSAddress(out []byte, what string) (common.Address, error) {
	if len(out) == 0 {
		return common.Address{}, nil
	}
	if len(out) < ensWord || !ensAllZero(out[:ensWord-common.AddressLength]) {
		return common.Address{}, fmt.Errorf("ens: %s: malformed answer: not an ABI address", what)
	}
	return common.BytesToAddress(out[ensWord-common.AddressLength : ensWord]), nil
}

// decodeENSString returns the bytes of an ABI-encoded string, the only
// return value in out, with bounds checks. The result aliases out.
func decodeENSString(out []byte) ([]byte, error) {
	if len(out) < ensWord {
		return nil, errors.New("shorter than one ABI word")
	}
	offset, ok := ensSmallUint(out[:ensWord], len(out))
	if !ok || offset > len(out)-ensWord {
		return nil, errors.New("string offset out of range")
	}
	n, ok := ensSmallUint(out[offset:offset+ensWord], len(out))
	start := offset + ensWord
	if !ok || n > len(out)-start {
		return nil, errors.New("string length out of range")
	}
	return out[start : start+n], nil
}

// ensSmallUint reads a 32-byte big-endian word that must not exceed limit.
func ensSmallUint(word []byte, limit int) (int, bool) {
	if !ensAllZero(word[:ensWord-8]) {
		return 0, false
	}
	v := binary.BigEndian.Uint64(word[ensWord-8:])
	if v > uint64(limit) {
		return 0, false
	}
	return int(v), true
}

// ensAllZero reports whether b is all zero bytes.
func ensAllZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// validENSName reports whether name may be shown as a username: not empty,
// at most maxENSNameLen bytes of UTF-8, without control characters.
func validENSName(name string) bool {
	if name == "" || len(name) > maxENSNameLen || !utf8.ValidString(name) {
		return false
	}
	return !strings.ContainsFunc(name, unicode.IsControl)
}

// ensNamehash is the EIP-137 namehash of name: labels split on '.', each
// hashed with keccak256 and folded in from the right; "" is the zero node.
// The name is hashed as it is, without normalization.
func ensNamehash(name string) common.Hash {
	var node common.Hash
	if name == "" {
		return node
	}
	labels := strings.Split(name, ".")
	for i := len(labels) - 1; i >= 0; i-- {
		label := crypto.Keccak256Hash([]byte(labels[i]))
		node = crypto.Keccak256Hash(node[:], label[:])
	}
	return node
}
