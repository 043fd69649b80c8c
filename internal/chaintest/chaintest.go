// Package chaintest runs go-ethereum's simulated backend with the test
// contracts of siwe/testdata/contracts (an ERC-1271 wallet, a developer
// license, a CREATE2 wallet factory, ENS, an ERC-8004 agent registry), for
// tests of contract-wallet, on-chain license and agent sign-ins in any
// package.
//
// It is test support: every helper takes a testing.TB and fails the test on
// error. It must not import package siwe, whose own tests use it.
package chaintest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
)

// ERC6492Magic is the 32-byte suffix of every ERC-6492 wrapped signature
// (ERC-6492 "Specification": magicBytes).
var ERC6492Magic = common.FromHex("0x6492649264926492649264926492649264926492649264926492649264926492")

// Chain is a simulated chain with one funded deployer key; every transaction
// it sends is mined at once.
type Chain struct {
	backend *simulated.Backend
	client  simulated.Client
	key     *ecdsa.PrivateKey
	chainID int64
}

// New starts a simulated chain whose deployer holds 1000 ether and closes it
// when the test ends.
func New(t testing.TB) *Chain {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	funds := new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))
	backend := simulated.NewBackend(types.GenesisAlloc{crypto.PubkeyToAddress(key.PublicKey): {Balance: funds}})
	t.Cleanup(func() { _ = backend.Close() })
	client := backend.Client()
	id, err := client.ChainID(context.Background())
	if err != nil {
		t.Fatalf("ChainID: %v", err)
	}
	return &Chain{backend: backend, client: client, key: key, chainID: id.Int64()}
}

// Client is the chain's JSON-RPC client. It has CodeAt and CallContract, so
// it serves as a siwe.ContractCaller.
func (c *Chain) Client() simulated.Client { return c.client }

// ChainID is the chain's EIP-155 chain ID (1337 for go-ethereum's simulated
// backend).
func (c *Chain) ChainID() int64 { return c.chainID }

// Send mines a transaction from the deployer carrying data to to (nil: a
// contract creation) and returns its receipt; a failed transaction fails the
// test.
func (c *Chain) Send(t testing.TB, to *common.Address, data []byte) *types.Receipt {
	t.Helper()
	return c.SendFrom(t, c.key, to, data)
}

// SendFrom is Send from key's account, which must hold ether for the gas
// (see [Chain.Fund]).
func (c *Chain) SendFrom(t testing.TB, key *ecdsa.PrivateKey, to *common.Address, data []byte) *types.Receipt {
	t.Helper()
	return c.send(t, key, to, nil, data)
}

// send mines a transaction from key's account carrying value (nil: none)
// and data to to.
func (c *Chain) send(t testing.TB, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte) *types.Receipt {
	t.Helper()
	ctx := context.Background()
	from := crypto.PubkeyToAddress(key.PublicKey)
	nonce, err := c.client.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatalf("PendingNonceAt: %v", err)
	}
	head, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatalf("HeaderByNumber: %v", err)
	}
	tip := big.NewInt(1e9)
	chainID := big.NewInt(c.chainID)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID:   chainID,
		Nonce:     nonce,
		GasTipCap: tip,
		GasFeeCap: new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip),
		Gas:       5_000_000,
		To:        to,
		Value:     value,
		Data:      data,
	})
	if err != nil {
		t.Fatalf("SignNewTx: %v", err)
	}
	if err := c.client.SendTransaction(ctx, tx); err != nil {
		t.Fatalf("SendTransaction: %v", err)
	}
	c.backend.Commit()
	receipt, err := c.client.TransactionReceipt(ctx, tx.Hash())
	if err != nil {
		t.Fatalf("TransactionReceipt: %v", err)
	}
	if receipt.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("transaction %s failed", tx.Hash())
	}
	return receipt
}

// Deploy creates a contract from creation code (constructor arguments
// appended, see [WithArgs]) and returns its address.
func (c *Chain) Deploy(t testing.TB, code []byte) common.Address {
	t.Helper()
	addr := c.Send(t, nil, code).ContractAddress
	if got := c.Code(t, addr); len(got) == 0 {
		t.Fatalf("no code at %s after deployment", addr)
	}
	return addr
}

// Code returns the code at addr in the latest block (empty for an account
// without code).
func (c *Chain) Code(t testing.TB, addr common.Address) []byte {
	t.Helper()
	code, err := c.client.CodeAt(context.Background(), addr, nil)
	if err != nil {
		t.Fatalf("CodeAt: %v", err)
	}
	return code
}

// ContractsDir is the directory of the compiled test contracts,
// siwe/testdata/contracts, found from this source file's location (or, in a
// binary built with -trimpath, from the module root above the working
// directory).
func ContractsDir(t testing.TB) string {
	t.Helper()
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Join(filepath.Dir(file), "..", "..", "siwe", "testdata", "contracts")
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("Getwd: %v", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "siwe", "testdata", "contracts")
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("siwe/testdata/contracts not found from %s", wd)
		}
	}
}

// Contract returns the creation bytecode of a test contract, read from
// NAME.bin in siwe/testdata/contracts: "Wallet1271", "DevLicense",
// "WalletFactory" or "ValidateSigOffchain".
func Contract(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(ContractsDir(t), name+".bin"))
	if err != nil {
		t.Fatalf("read %s.bin: %v", name, err)
	}
	code, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(code) == 0 {
		t.Fatalf("%s.bin is not hex bytecode: %v", name, err)
	}
	return code
}

// Pack ABI-encodes values of the given Solidity types (e.g. "address",
// "bytes32", "address[]") with go-ethereum's encoder.
func Pack(t testing.TB, typeNames []string, values ...any) []byte {
	t.Helper()
	args := make(abi.Arguments, len(typeNames))
	for i, name := range typeNames {
		typ, err := abi.NewType(name, "", nil)
		if err != nil {
			t.Fatalf("abi.NewType(%q): %v", name, err)
		}
		args[i] = abi.Argument{Type: typ}
	}
	out, err := args.Pack(values...)
	if err != nil {
		t.Fatalf("abi Pack: %v", err)
	}
	return out
}

// WithArgs returns creation code with ABI-encoded constructor arguments
// appended; code itself is not modified.
func WithArgs(t testing.TB, code []byte, typeNames []string, values ...any) []byte {
	t.Helper()
	return append(bytes.Clone(code), Pack(t, typeNames, values...)...)
}

// DeployCalldata is the calldata of WalletFactory.deploy(owner, salt), which
// creates owner's Wallet1271 with CREATE2.
func DeployCalldata(t testing.TB, owner common.Address, salt [32]byte) []byte {
	t.Helper()
	selector := crypto.Keccak256([]byte("deploy(address,bytes32)"))[:4]
	return append(selector, Pack(t, []string{"address", "bytes32"}, owner, salt)...)
}

// FactoryWallet is the address at which WalletFactory factory deploys
// owner's Wallet1271 for salt: a counterfactual wallet until then.
func FactoryWallet(t testing.TB, factory, owner common.Address, salt [32]byte) common.Address {
	t.Helper()
	init := WithArgs(t, Contract(t, "Wallet1271"), []string{"address"}, owner)
	return crypto.CreateAddress2(factory, salt, crypto.Keccak256(init))
}

// Wrap6492 wraps sig as ERC-6492 "Signer side" prescribes:
// abi.encode(create2Factory, factoryCalldata, sig) ++ magicBytes.
func Wrap6492(t testing.TB, factory common.Address, calldata, sig []byte) []byte {
	t.Helper()
	return append(Pack(t, []string{"address", "bytes", "bytes"}, factory, calldata, sig), ERC6492Magic...)
}

// Sign signs hash with key the way wallets do: 65 bytes, v of 27 or 28.
func Sign(t testing.TB, key *ecdsa.PrivateKey, hash common.Hash) []byte {
	t.Helper()
	sig, err := crypto.Sign(hash[:], key)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	sig[64] += 27
	return sig
}
