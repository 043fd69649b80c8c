package siwe

import (
	"bytes"
	"context"
	_ "embed" // the ERC-6492 validator's bytecode
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// DefaultContractCheckTimeout bounds one [ContractChecker.CheckSignature]
// call, all of its RPC requests together, when no other timeout is given.
const DefaultContractCheckTimeout = 5 * time.Second

const (
	// erc1271MagicValue is the ERC-1271 selector of
	// isValidSignature(bytes32,bytes), 0x1626ba7e, which a contract also
	// returns to accept a signature (ERC-1271 "Specification").
	erc1271MagicValue = "\x16\x26\xba\x7e"
	// erc6492MagicSuffix ends every ERC-6492 wrapped signature
	// (ERC-6492 "Specification": magicBytes = 0x6492…6492, 32 bytes).
	erc6492MagicSuffix = "\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92" +
		"\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92\x64\x92"
	// abiWord is the size of one ABI head slot.
	abiWord = 32
)

// erc6492ValidatorHex is the creation bytecode of ValidateSigOffchain, the
// ERC-6492 reference implementation's helper for off-chain validation
// (ERC-6492 "Reference Implementation" and "Off-chain validation"). Its source
// and the command that compiled it are in testdata/contracts.
//
//go:embed erc6492_validator.hex
var erc6492ValidatorHex string

// ContractCaller is the part of an Ethereum JSON-RPC client that
// [ContractChecker] needs: eth_getCode and eth_call. [ethclient.Client] and
// the client of go-ethereum's simulated backend satisfy it. Implementations
// must return once ctx is done.
//
// [ethclient.Client]: https://pkg.go.dev/github.com/ethereum/go-ethereum/ethclient#Client
type ContractCaller interface {
	// CodeAt returns the code of account at blockNumber (nil: the latest block).
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
	// CallContract executes call at blockNumber (nil: the latest block) without a transaction.
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
}

// ContractChecker is a [SignatureChecker] for plain accounts and contract
// wallets. It follows the order of ERC-6492 "Verifier side": an ERC-6492
// wrapped signature is checked with a deployless eth_call of the ERC-6492
// validator (which deploys a counterfactual wallet first); otherwise, when the
// account has code, its ERC-1271 isValidSignature decides; otherwise the
// signature must be the account's own ECDSA signature (ecrecover), of 65
// bytes or 64 in the compact form of EIP-2098.
//
// Contract checks need the chain's RPC endpoint; without one only plain
// ECDSA signatures can be checked. Nothing is cached across calls. Use
// [NewContractChecker]; the zero value knows no RPC endpoint.
type ContractChecker struct {
	callers   map[int64]ContractCaller
	timeout   time.Duration
	validator []byte // ValidateSigOffchain creation bytecode
}

var _ SignatureChecker = (*ContractChecker)(nil)

// NewContractChecker returns a ContractChecker that reaches each chain
// (by EIP-155 chain ID) through callers and gives each check at most timeout
// (zero or less: [DefaultContractCheckTimeout]). The map is copied; nil
// callers are ignored.
func NewContractChecker(callers map[int64]ContractCaller, timeout time.Duration) *ContractChecker {
	validator, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(erc6492ValidatorHex), "0x"))
	if err != nil || len(validator) == 0 {
		// The file is embedded at build time; a test decodes it.
		panic("siwe: erc6492_validator.hex is not valid hex bytecode")
	}
	c := &ContractChecker{
		callers:   make(map[int64]ContractCaller, len(callers)),
		timeout:   timeout,
		validator: validator,
	}
	for id, caller := range callers {
		if caller != nil {
			c.callers[id] = caller
		}
	}
	return c
}

// CheckSignature checks sig over hash for account on chain chainID and
// returns the signer: account itself (a contract wallet vouches for its own
// signatures). Rejected signatures are [*Error] values with CodeInvalidGrant;
// an RPC endpoint that fails or does not answer in time gives CodeUnavailable.
func (c *ContractChecker) CheckSignature(ctx context.Context, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	wrapped := hasERC6492Suffix(sig)
	caller := c.callers[chainID]
	if caller == nil {
		switch {
		case !wrapped && len(sig) == crypto.SignatureLength:
			return EOAChecker{}.CheckSignature(ctx, chainID, account, hash, sig)
		case !wrapped && len(sig) == compactSignatureLength:
			// The account's own compact signature (EIP-2098) needs no node;
			// other 64 bytes may be a contract wallet's.
			if signer, err := Recover(hash, sig); err == nil && signer == account {
				return account, nil
			}
		}
		return common.Address{}, invalidGrant(CheckNoRPC, fmt.Sprintf(
			"contract-wallet signatures on chain %d need an RPC endpoint, which is not configured", chainID))
	}

	timeout := c.timeout
	if timeout <= 0 {
		timeout = DefaultContractCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// ERC-6492 "Verifier side", step 1: the magic suffix comes first, whether
	// or not the wallet is deployed yet.
	if wrapped {
		return c.checkERC6492(ctx, caller, chainID, account, hash, sig)
	}

	// A plain signature by the account's own key needs no node: an address
	// derived from a key cannot be a deployed contract, and an EIP-7702
	// account is still controlled by its key. So a node that is down never
	// locks out plain wallets.
	if isKeySignature(sig) {
		if signer, err := Recover(hash, sig); err == nil && signer == account {
			return account, nil
		}
	}

	// Step 2: an account with code is a contract; ERC-1271 decides.
	code, err := caller.CodeAt(ctx, account, nil)
	if err != nil {
		return common.Address{}, rpcUnavailable(chainID, err)
	}
	if len(code) == 0 {
		// Step 4: no code, a plain account: ecrecover (which failed above).
		return EOAChecker{}.CheckSignature(ctx, chainID, account, hash, sig)
	}
	return c.checkERC1271(ctx, caller, chainID, account, hash, sig)
}

// checkERC1271 asks account's isValidSignature(hash, sig) and accepts only
// the magic value 0x1626ba7e (ERC-1271 "Specification").
func (c *ContractChecker) checkERC1271(ctx context.Context, caller ContractCaller, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	data := make([]byte, 0, 4+3*abiWord+paddedLen(len(sig)))
	data = append(data, erc1271MagicValue...)
	data = append(data, hash[:]...)
	data = append(data, abiUint(2*abiWord)...) // offset of sig after the two head slots
	data = appendABIBytes(data, sig)

	out, err := caller.CallContract(ctx, ethereum.CallMsg{To: &account, Data: data}, nil)
	if err != nil {
		return common.Address{}, callFailed(ctx, chainID, err)
	}
	if len(out) < 4 || string(out[:4]) != erc1271MagicValue {
		return common.Address{}, walletRejected(nil)
	}
	return account, nil
}

// checkERC6492 validates a wrapped signature in one deployless eth_call: the
// creation code of ValidateSigOffchain followed by abi.encode(account, hash,
// sig); it deploys the wallet through the wrapper's factory if needed, calls
// isValidSignature and returns 0x01 for a valid signature (ERC-6492
// "Off-chain validation").
func (c *ContractChecker) checkERC6492(ctx context.Context, caller ContractCaller, chainID int64, account common.Address, hash common.Hash, sig []byte) (common.Address, error) {
	if _, err := parseERC6492(sig); err != nil {
		return common.Address{}, invalidGrant(CheckSignature, "the ERC-6492 signature is malformed: "+err.Error())
	}
	data := make([]byte, 0, len(c.validator)+4*abiWord+paddedLen(len(sig)))
	data = append(data, c.validator...)
	data = append(data, common.LeftPadBytes(account[:], abiWord)...)
	data = append(data, hash[:]...)
	data = append(data, abiUint(3*abiWord)...) // offset of sig after the three head slots
	data = appendABIBytes(data, sig)

	out, err := caller.CallContract(ctx, ethereum.CallMsg{Data: data}, nil)
	if err != nil {
		return common.Address{}, callFailed(ctx, chainID, err)
	}
	if len(out) != 1 || out[0] != 1 {
		return common.Address{}, walletRejected(nil)
	}
	return account, nil
}

// erc6492Signature is the content of an ERC-6492 wrapper (ERC-6492 "Signer
// side"): abi.encode(create2Factory, factoryCalldata, originalERC1271Signature).
type erc6492Signature struct {
	Factory         common.Address
	FactoryCalldata []byte
	Signature       []byte
}

// hasERC6492Suffix reports whether sig ends with the ERC-6492 magic bytes.
func hasERC6492Suffix(sig []byte) bool {
	return bytes.HasSuffix(sig, []byte(erc6492MagicSuffix))
}

// parseERC6492 decodes a wrapped signature, magic suffix included, with the
// bounds checks of Solidity's abi.decode(…, (address, bytes, bytes)).
func parseERC6492(sig []byte) (*erc6492Signature, error) {
	if !hasERC6492Suffix(sig) {
		return nil, errors.New("no magic suffix")
	}
	body := sig[:len(sig)-len(erc6492MagicSuffix)]
	if len(body) < 3*abiWord {
		return nil, errors.New("too short")
	}
	if !isZero(body[:abiWord-common.AddressLength]) {
		return nil, errors.New("factory is not an address")
	}
	calldata, err := abiBytesAt(body, body[abiWord:2*abiWord])
	if err != nil {
		return nil, fmt.Errorf("factory calldata: %w", err)
	}
	inner, err := abiBytesAt(body, body[2*abiWord:3*abiWord])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return &erc6492Signature{
		Factory:         common.BytesToAddress(body[abiWord-common.AddressLength : abiWord]),
		FactoryCalldata: calldata,
		Signature:       inner,
	}, nil
}

// abiBytesAt returns the dynamic bytes value whose head slot is offsetWord.
func abiBytesAt(body, offsetWord []byte) ([]byte, error) {
	offset, ok := abiSmallUint(offsetWord, len(body))
	if !ok || offset+abiWord > len(body) {
		return nil, errors.New("offset out of range")
	}
	n, ok := abiSmallUint(body[offset:offset+abiWord], len(body))
	if !ok || n > len(body)-offset-abiWord {
		return nil, errors.New("length out of range")
	}
	start := offset + abiWord
	return body[start : start+n], nil
}

// abiSmallUint reads a 32-byte big-endian word that must not exceed limit.
func abiSmallUint(word []byte, limit int) (int, bool) {
	v := new(big.Int).SetBytes(word)
	if !v.IsInt64() || v.Int64() > int64(limit) {
		return 0, false
	}
	return int(v.Int64()), true
}

// abiUint encodes n as a 32-byte big-endian word.
func abiUint(n int) []byte {
	return common.LeftPadBytes(big.NewInt(int64(n)).Bytes(), abiWord)
}

// appendABIBytes appends the tail of a dynamic bytes value: its length and
// its content, zero-padded to whole words.
func appendABIBytes(dst, b []byte) []byte {
	dst = append(dst, abiUint(len(b))...)
	dst = append(dst, b...)
	return append(dst, make([]byte, paddedLen(len(b))-len(b))...)
}

// paddedLen rounds n up to whole ABI words.
func paddedLen(n int) int {
	return (n + abiWord - 1) / abiWord * abiWord
}

// isZero reports whether b is all zero bytes.
func isZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// walletRejected is the answer for a contract that did not accept a
// signature; cause, if any, is kept for logs only.
func walletRejected(cause error) *Error {
	return &Error{Code: CodeInvalidGrant, Check: CheckContractWallet, Description: "the contract wallet rejected the signature", Err: cause}
}

// rpcUnavailable is the answer for an RPC endpoint that failed or timed out.
func rpcUnavailable(chainID int64, cause error) *Error {
	return unavailable(fmt.Sprintf("the RPC endpoint for chain %d did not answer", chainID), cause)
}

// callFailed sorts an eth_call error: the EVM failing the call (a revert)
// means the wallet rejected the signature; anything else, or running out of
// time, means the endpoint did not answer.
func callFailed(ctx context.Context, chainID int64, err error) *Error {
	if ctx.Err() == nil && isExecutionError(err) {
		return walletRejected(err)
	}
	return rpcUnavailable(chainID, err)
}

// isExecutionError reports whether err is a JSON-RPC error object saying the
// EVM failed the call, as opposed to a failure of the node or the transport:
// code 3 ("execution reverted", the Ethereum JSON-RPC spec's code for
// reverts), -32015 (VM execution error, go-ethereum and Nethermind), or a
// message naming an EVM failure in go-ethereum's words (core/vm errors),
// which other clients share.
func isExecutionError(err error) bool {
	var rpcErr interface {
		error
		ErrorCode() int
	}
	if !errors.As(err, &rpcErr) {
		return false // transport failure: HTTP status, connection, decoding
	}
	switch rpcErr.ErrorCode() {
	case 3, -32015:
		return true
	}
	evmFailures := [...]string{
		"revert", // "execution reverted", "Reverted", "VM Exception … revert"
		"out of gas",
		"invalid opcode",
		"invalid jump",
		"stack underflow",
		"stack limit reached",
		"stack overflow",
		"write protection",
		"return data out of bounds",
		"max call depth exceeded",
		"max code size exceeded",
		"invalid code",
	}
	msg := strings.ToLower(rpcErr.Error())
	for _, f := range evmFailures {
		if strings.Contains(msg, f) {
			return true
		}
	}
	return false
}
