package siwe

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/signet-id/signet/internal/chaintest"
)

// simChainID is the chain ID of go-ethereum's simulated backend.
const simChainID = 1337

// Descriptions the contract checker answers with.
const (
	descRejected    = "the contract wallet rejected the signature"
	descNoRPC       = "contract-wallet signatures on chain 1337 need an RPC endpoint, which is not configured"
	descNoAnswer    = "the RPC endpoint for chain 1337 did not answer"
	descMalformed   = "the ERC-6492 signature is malformed"
	descEOAMismatch = "signature does not match the address"
)

func addrOf(key *ecdsa.PrivateKey) common.Address { return crypto.PubkeyToAddress(key.PublicKey) }

// contractFixture is a simulated chain with the test contracts deployed.
type contractFixture struct {
	chain    *chaintest.Chain
	owner    *ecdsa.PrivateKey // owns wallet and the counterfactual wallet
	stranger *ecdsa.PrivateKey // signs for nothing
	signers  []*ecdsa.PrivateKey
	wallet   common.Address // Wallet1271 owned by owner
	license  common.Address // DevLicense with signers enabled
	factory  common.Address // WalletFactory
	salt     [32]byte
	cfWallet common.Address // owner's wallet from factory+salt, not deployed
}

func newContractFixture(t *testing.T) *contractFixture {
	t.Helper()
	f := &contractFixture{
		chain:    chaintest.New(t),
		owner:    newKey(t),
		stranger: newKey(t),
		signers:  []*ecdsa.PrivateKey{newKey(t), newKey(t)},
		salt:     [32]byte{31: 7},
	}
	walletCode := chaintest.Contract(t, "Wallet1271")
	f.wallet = f.chain.Deploy(t, chaintest.WithArgs(t, walletCode, []string{"address"}, addrOf(f.owner)))
	f.license = f.chain.Deploy(t, chaintest.WithArgs(t, chaintest.Contract(t, "DevLicense"), []string{"address[]"},
		[]common.Address{addrOf(f.signers[0]), addrOf(f.signers[1])}))
	f.factory = f.chain.Deploy(t, chaintest.Contract(t, "WalletFactory"))
	init := chaintest.WithArgs(t, walletCode, []string{"address"}, addrOf(f.owner))
	f.cfWallet = crypto.CreateAddress2(f.factory, f.salt, crypto.Keccak256(init))
	if got := chaintest.FactoryWallet(t, f.factory, addrOf(f.owner), f.salt); got != f.cfWallet {
		t.Fatalf("chaintest.FactoryWallet = %s, want %s", got, f.cfWallet)
	}
	if got := f.chain.ChainID(); got != simChainID {
		t.Fatalf("simulated chain ID = %d, want %d", got, simChainID)
	}
	return f
}

func (f *contractFixture) checker(timeout time.Duration) *ContractChecker {
	return NewContractChecker(map[int64]ContractCaller{simChainID: f.chain.Client()}, timeout)
}

// wantSigner fails unless the check succeeded with signer want.
func wantSigner(t *testing.T, got common.Address, err error, want common.Address) {
	t.Helper()
	if err != nil {
		t.Fatalf("CheckSignature: %v", err)
	}
	if got != want {
		t.Fatalf("signer = %s, want %s", got, want)
	}
}

func TestContractCheckerOnChain(t *testing.T) {
	f := newContractFixture(t)
	ctx := context.Background()
	hash := TextHash([]byte("signet.example wants you to sign in"))
	checker := f.checker(0)
	noRPC := NewContractChecker(map[int64]ContractCaller{1: f.chain.Client()}, 0) // a caller, but for another chain

	t.Run("EOA with RPC", func(t *testing.T) {
		signer, err := checker.CheckSignature(ctx, simChainID, addrOf(f.owner), hash, chaintest.Sign(t, f.owner, hash))
		wantSigner(t, signer, err, addrOf(f.owner))
	})
	t.Run("EOA with RPC, other key", func(t *testing.T) {
		_, err := checker.CheckSignature(ctx, simChainID, addrOf(f.owner), hash, chaintest.Sign(t, f.stranger, hash))
		wantError(t, err, CodeInvalidGrant, descEOAMismatch)
	})
	t.Run("EOA without RPC", func(t *testing.T) {
		signer, err := noRPC.CheckSignature(ctx, simChainID, addrOf(f.owner), hash, chaintest.Sign(t, f.owner, hash))
		wantSigner(t, signer, err, addrOf(f.owner))
	})
	t.Run("ERC-1271 wallet, owner", func(t *testing.T) {
		signer, err := checker.CheckSignature(ctx, simChainID, f.wallet, hash, chaintest.Sign(t, f.owner, hash))
		wantSigner(t, signer, err, f.wallet)
	})
	t.Run("ERC-1271 wallet, owner with v of 0/1", func(t *testing.T) {
		sig := chaintest.Sign(t, f.owner, hash)
		sig[64] -= 27
		signer, err := checker.CheckSignature(ctx, simChainID, f.wallet, hash, sig)
		wantSigner(t, signer, err, f.wallet)
	})
	t.Run("ERC-1271 wallet, other key", func(t *testing.T) {
		_, err := checker.CheckSignature(ctx, simChainID, f.wallet, hash, chaintest.Sign(t, f.stranger, hash))
		e := wantError(t, err, CodeInvalidGrant, descRejected)
		if e.Err != nil {
			t.Fatalf("a non-magic answer has cause %v, want none", e.Err)
		}
	})
	t.Run("ERC-1271 wallet, owner's signature of another hash", func(t *testing.T) {
		other := TextHash([]byte("something else"))
		_, err := checker.CheckSignature(ctx, simChainID, f.wallet, hash, chaintest.Sign(t, f.owner, other))
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("ERC-1271 wallet without RPC", func(t *testing.T) {
		// A 65-byte signature falls back to ecrecover, which names the owner, not the wallet.
		_, err := noRPC.CheckSignature(ctx, simChainID, f.wallet, hash, chaintest.Sign(t, f.owner, hash))
		wantError(t, err, CodeInvalidGrant, descEOAMismatch)
	})
	for i := range f.signers {
		t.Run(fmt.Sprintf("license, enabled signer %d", i), func(t *testing.T) {
			signer, err := checker.CheckSignature(ctx, simChainID, f.license, hash, chaintest.Sign(t, f.signers[i], hash))
			wantSigner(t, signer, err, f.license)
		})
	}
	t.Run("license, not an enabled signer", func(t *testing.T) {
		_, err := checker.CheckSignature(ctx, simChainID, f.license, hash, chaintest.Sign(t, f.owner, hash))
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("license reverts", func(t *testing.T) {
		sig := chaintest.Sign(t, f.signers[0], hash)[:64] // DevLicense reverts on a signature that is not 65 bytes
		_, err := checker.CheckSignature(ctx, simChainID, f.license, hash, sig)
		e := wantError(t, err, CodeInvalidGrant, descRejected)
		if e.Err == nil || !strings.Contains(e.Err.Error(), "signature must be 65 bytes") {
			t.Fatalf("cause = %v, want the revert reason", e.Err)
		}
	})
	t.Run("ERC-6492 undeployed wallet, owner", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.owner, hash))
		signer, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantSigner(t, signer, err, f.cfWallet)
		if code := f.chain.Code(t, f.cfWallet); len(code) != 0 {
			t.Fatalf("the deployless eth_call left code at %s", f.cfWallet)
		}
	})
	t.Run("ERC-6492 undeployed wallet, other key", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.stranger, hash))
		_, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("ERC-6492 factory deploys someone else's wallet", func(t *testing.T) {
		// The calldata deploys the stranger's wallet, at another address: the
		// claimed wallet stays empty and the validator reverts.
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.stranger), f.salt), chaintest.Sign(t, f.stranger, hash))
		_, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("ERC-6492 plain EOA signature wrapped", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.owner, hash))
		_, err := checker.CheckSignature(ctx, simChainID, addrOf(f.owner), hash, sig)
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("ERC-6492 without RPC", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.owner, hash))
		_, err := noRPC.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantError(t, err, CodeInvalidGrant, descNoRPC)
	})
	t.Run("non-65-byte signature without RPC", func(t *testing.T) {
		_, err := noRPC.CheckSignature(ctx, simChainID, f.wallet, hash, append(chaintest.Sign(t, f.owner, hash), 0))
		wantError(t, err, CodeInvalidGrant, descNoRPC)
	})
	t.Run("garbage ERC-6492 wrapper", func(t *testing.T) {
		sig := append(bytes.Repeat([]byte{0xab}, 100), common.FromHex("0x6492649264926492649264926492649264926492649264926492649264926492")...)
		_, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantError(t, err, CodeInvalidGrant, descMalformed)
	})

	// Deploy the counterfactual wallet: wrapped signatures keep working
	// (ERC-6492 checks a deployed wallet as it is now), and so do plain ones.
	f.chain.Send(t, &f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt))
	if len(f.chain.Code(t, f.cfWallet)) == 0 {
		t.Fatalf("factory did not deploy the wallet at the CREATE2 address %s", f.cfWallet)
	}
	t.Run("ERC-6492 deployed wallet, owner", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.owner, hash))
		signer, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantSigner(t, signer, err, f.cfWallet)
	})
	t.Run("ERC-6492 deployed wallet, other key", func(t *testing.T) {
		sig := chaintest.Wrap6492(t, f.factory, chaintest.DeployCalldata(t, addrOf(f.owner), f.salt), chaintest.Sign(t, f.stranger, hash))
		_, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, sig)
		wantError(t, err, CodeInvalidGrant, descRejected)
	})
	t.Run("deployed wallet, plain ERC-1271 signature", func(t *testing.T) {
		signer, err := checker.CheckSignature(ctx, simChainID, f.cfWallet, hash, chaintest.Sign(t, f.owner, hash))
		wantSigner(t, signer, err, f.cfWallet)
	})
}

// TestContractCheckerVerify runs a whole sign-in of an ERC-1271 wallet
// through Verifier.Verify.
func TestContractCheckerVerify(t *testing.T) {
	f := newContractFixture(t)
	cfg := testConfig()
	cfg.ChainIDs = []int64{simChainID}
	env := newTestEnvConfig(t, cfg, WithSignatureChecker(f.checker(0)))
	ctx := context.Background()

	issue := func(t *testing.T) (*Challenge, string) {
		t.Helper()
		c, err := env.v.Issue(ctx, IssueRequest{Address: f.wallet.Hex(), ClientID: "app", Scopes: []string{"openid"}, AuthRequestID: "ar1"})
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		if c.ChainID != simChainID || c.Address != f.wallet {
			t.Fatalf("challenge for %s on chain %d, want %s on %d", c.Address, c.ChainID, f.wallet, simChainID)
		}
		return c, agentMessage(t, c, nil)
	}

	t.Run("other key", func(t *testing.T) {
		c, msg := issue(t)
		sig := "0x" + hex.EncodeToString(chaintest.Sign(t, f.stranger, TextHash([]byte(msg))))
		_, err := env.v.Verify(ctx, msg, sig, Expect{})
		wantError(t, err, CodeInvalidGrant, descRejected)
		if env.store.isUsed(c.ID) {
			t.Fatal("a rejected signature consumed the challenge")
		}
	})
	t.Run("owner", func(t *testing.T) {
		c, msg := issue(t)
		sig := "0x" + hex.EncodeToString(chaintest.Sign(t, f.owner, TextHash([]byte(msg))))
		res, err := env.v.Verify(ctx, msg, sig, Expect{})
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// The account is the wallet; Verify names the key behind a plain
		// 65-byte signature the wallet accepted as the signer.
		if res.Address != f.wallet || res.Signer != addrOf(f.owner) || res.ChainID != simChainID {
			t.Fatalf("result address %s signer %s chain %d, want %s, %s, %d",
				res.Address, res.Signer, res.ChainID, f.wallet, addrOf(f.owner), simChainID)
		}
		if !env.store.isUsed(c.ID) {
			t.Fatal("challenge was not consumed")
		}
	})
}

// stubCaller answers with fixed code and a fixed eth_call result or error,
// and counts calls.
type stubCaller struct {
	code    []byte
	codeErr error
	out     []byte
	callErr error
	calls   int
}

func (s *stubCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	s.calls++
	return s.code, s.codeErr
}

func (s *stubCaller) CallContract(context.Context, ethereum.CallMsg, *big.Int) ([]byte, error) {
	s.calls++
	return s.out, s.callErr
}

// blockingCaller answers only when ctx is done, like an endpoint that hangs.
type blockingCaller struct{}

func (blockingCaller) CodeAt(ctx context.Context, _ common.Address, _ *big.Int) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (blockingCaller) CallContract(ctx context.Context, _ ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// jsonRPCError is a JSON-RPC error object as go-ethereum's rpc client returns it.
type jsonRPCError struct {
	code int
	msg  string
}

func (e *jsonRPCError) Error() string  { return e.msg }
func (e *jsonRPCError) ErrorCode() int { return e.code }

func TestContractCheckerRPCFailures(t *testing.T) {
	ctx := context.Background()
	key := newKey(t)
	hash := TextHash([]byte("hello"))
	account := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	contractCode := []byte{0x60, 0x00}
	wrapped := chaintest.Wrap6492(t, common.HexToAddress("0xfac7"), []byte{1, 2, 3}, chaintest.Sign(t, key, hash))
	down := errors.New("dial tcp 127.0.0.1:8545: connect: connection refused")

	tests := []struct {
		name     string
		caller   *stubCaller
		sig      []byte
		code     Code
		fragment string
	}{
		{"CodeAt fails", &stubCaller{codeErr: down}, chaintest.Sign(t, key, hash), CodeUnavailable, descNoAnswer},
		{"isValidSignature call fails", &stubCaller{code: contractCode, callErr: down}, chaintest.Sign(t, key, hash), CodeUnavailable, descNoAnswer},
		{"ERC-6492 call fails", &stubCaller{callErr: down}, wrapped, CodeUnavailable, descNoAnswer},
		{"rate limited", &stubCaller{code: contractCode, callErr: fmt.Errorf("call: %w", &jsonRPCError{-32005, "limit exceeded"})}, chaintest.Sign(t, key, hash), CodeUnavailable, descNoAnswer},
		{"revert, code 3", &stubCaller{code: contractCode, callErr: fmt.Errorf("call: %w", &jsonRPCError{3, "execution reverted"})}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"revert, code -32000", &stubCaller{code: contractCode, callErr: &jsonRPCError{-32000, "Execution reverted"}}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"VM error, code -32015", &stubCaller{code: contractCode, callErr: &jsonRPCError{-32015, "VM execution error."}}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"out of gas", &stubCaller{code: contractCode, callErr: &jsonRPCError{-32000, "out of gas"}}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"ERC-1271 short answer", &stubCaller{code: contractCode, out: []byte{0x16, 0x26, 0xba}}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"ERC-1271 wrong magic", &stubCaller{code: contractCode, out: common.LeftPadBytes([]byte{0x16, 0x26, 0xba, 0x7e}, 32)}, chaintest.Sign(t, key, hash), CodeInvalidGrant, descRejected},
		{"ERC-6492 answers 0x00", &stubCaller{out: []byte{0}}, wrapped, CodeInvalidGrant, descRejected},
		{"ERC-6492 answers 0x0001", &stubCaller{out: []byte{0, 1}}, wrapped, CodeInvalidGrant, descRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checker := NewContractChecker(map[int64]ContractCaller{simChainID: tt.caller}, 0)
			_, err := checker.CheckSignature(ctx, simChainID, account, hash, tt.sig)
			e := wantError(t, err, tt.code, tt.fragment)
			if tt.code == CodeUnavailable && e.Err == nil {
				t.Fatal("unavailable without its cause")
			}
		})
	}

	t.Run("answers are accepted", func(t *testing.T) {
		magic := append([]byte{0x16, 0x26, 0xba, 0x7e}, make([]byte, 28)...)
		for _, c := range []struct {
			name   string
			caller *stubCaller
			sig    []byte
		}{
			{"ERC-1271 magic", &stubCaller{code: contractCode, out: magic}, chaintest.Sign(t, key, hash)},
			{"ERC-6492 0x01", &stubCaller{out: []byte{1}}, wrapped},
		} {
			checker := NewContractChecker(map[int64]ContractCaller{simChainID: c.caller}, 0)
			signer, err := checker.CheckSignature(ctx, simChainID, account, hash, c.sig)
			if err != nil || signer != account {
				t.Fatalf("%s: signer %s, err %v; want %s", c.name, signer, err, account)
			}
		}
	})

	t.Run("slow RPC", func(t *testing.T) {
		const timeout = 50 * time.Millisecond
		checker := NewContractChecker(map[int64]ContractCaller{simChainID: blockingCaller{}}, timeout)
		for _, sig := range [][]byte{chaintest.Sign(t, key, hash), wrapped} {
			start := time.Now()
			_, err := checker.CheckSignature(ctx, simChainID, account, hash, sig)
			elapsed := time.Since(start)
			e := wantError(t, err, CodeUnavailable, descNoAnswer)
			if !errors.Is(e, context.DeadlineExceeded) {
				t.Fatalf("cause = %v, want the deadline", e.Err)
			}
			if elapsed < timeout || elapsed > timeout+2*time.Second {
				t.Fatalf("check took %v with a timeout of %v", elapsed, timeout)
			}
		}
	})

	t.Run("caller's context canceled", func(t *testing.T) {
		checker := NewContractChecker(map[int64]ContractCaller{simChainID: blockingCaller{}}, time.Hour)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := checker.CheckSignature(cctx, simChainID, account, hash, chaintest.Sign(t, key, hash))
		wantError(t, err, CodeUnavailable, descNoAnswer)
	})

	t.Run("HTTP endpoint fails", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			handler http.HandlerFunc
		}{
			{"503", func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "overloaded", http.StatusServiceUnavailable)
			}},
			{"JSON-RPC error", func(w http.ResponseWriter, r *http.Request) {
				var req struct{ ID json.RawMessage }
				if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32005,"message":"daily request limit reached"}}`, req.ID)
			}},
		} {
			srv := httptest.NewServer(c.handler)
			client, err := ethclient.Dial(srv.URL)
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			checker := NewContractChecker(map[int64]ContractCaller{simChainID: client}, 0)
			_, err = checker.CheckSignature(ctx, simChainID, account, hash, chaintest.Sign(t, key, hash))
			client.Close()
			srv.Close()
			e := wantError(t, err, CodeUnavailable, descNoAnswer)
			if e.Err == nil {
				t.Fatalf("%s: unavailable without its cause", c.name)
			}
		}
	})

	t.Run("no RPC endpoint", func(t *testing.T) {
		checker := NewContractChecker(nil, 0)
		for _, sig := range [][]byte{wrapped, chaintest.Sign(t, key, hash)[:64], nil} {
			_, err := checker.CheckSignature(ctx, simChainID, account, hash, sig)
			wantError(t, err, CodeInvalidGrant, descNoRPC)
		}
		signer, err := checker.CheckSignature(ctx, simChainID, addrOf(key), hash, chaintest.Sign(t, key, hash))
		if err != nil || signer != addrOf(key) {
			t.Fatalf("EOA without RPC: signer %s, err %v", signer, err)
		}
		var zero ContractChecker
		if _, err := zero.CheckSignature(ctx, simChainID, account, hash, wrapped); err == nil {
			t.Fatal("zero ContractChecker accepted a contract signature")
		}
	})
}

func TestContractCheckerMalformedERC6492(t *testing.T) {
	ctx := context.Background()
	hash := TextHash([]byte("hello"))
	magic := common.FromHex("0x6492649264926492649264926492649264926492649264926492649264926492")
	good := chaintest.Wrap6492(t, common.HexToAddress("0xfac7"), []byte{1, 2, 3}, bytes.Repeat([]byte{9}, 65))
	body := good[:len(good)-32]
	edit := func(at int, word []byte) []byte {
		b := bytes.Clone(body)
		copy(b[at:at+32], common.LeftPadBytes(word, 32))
		return append(b, magic...)
	}
	huge := bytes.Repeat([]byte{0xff}, 32)
	tests := map[string][]byte{
		"magic only":                 magic,
		"short body":                 append(make([]byte, 95), magic...),
		"garbage":                    append(bytes.Repeat([]byte{0xab}, 200), magic...),
		"dirty address":              edit(0, append([]byte{1}, make([]byte, 31)...)),
		"calldata offset past end":   edit(32, big.NewInt(int64(len(body))).Bytes()),
		"calldata offset huge":       edit(32, huge),
		"signature offset past end":  edit(64, big.NewInt(int64(len(body)-31)).Bytes()),
		"calldata length past end":   edit(96, big.NewInt(int64(len(body))).Bytes()),
		"calldata length huge":       edit(96, huge),
		"signature truncated":        append(bytes.Clone(body[:len(body)-40]), magic...),
		"signature length overflows": edit(160, huge),
	}
	for name, sig := range tests {
		t.Run(name, func(t *testing.T) {
			caller := &stubCaller{out: []byte{1}} // would accept: the checker must not ask
			checker := NewContractChecker(map[int64]ContractCaller{simChainID: caller}, 0)
			_, err := checker.CheckSignature(ctx, simChainID, common.HexToAddress("0xa11ce"), hash, sig)
			wantError(t, err, CodeInvalidGrant, descMalformed)
			if caller.calls != 0 {
				t.Fatalf("the checker made %d RPC calls for a malformed wrapper", caller.calls)
			}
		})
	}
}

func TestParseERC6492(t *testing.T) {
	factory := common.HexToAddress("0x1111111111111111111111111111111111111111")
	for _, c := range []struct{ calldata, sig []byte }{
		{[]byte{}, []byte{}},
		{[]byte{1, 2, 3}, bytes.Repeat([]byte{9}, 65)},
		{bytes.Repeat([]byte{7}, 100), bytes.Repeat([]byte{5}, 64)},
	} {
		got, err := parseERC6492(chaintest.Wrap6492(t, factory, c.calldata, c.sig))
		if err != nil {
			t.Fatalf("parseERC6492: %v", err)
		}
		if got.Factory != factory || !bytes.Equal(got.FactoryCalldata, c.calldata) || !bytes.Equal(got.Signature, c.sig) {
			t.Fatalf("parsed %x %x %x, want %x %x %x", got.Factory, got.FactoryCalldata, got.Signature, factory, c.calldata, c.sig)
		}
	}
}

// TestContractCheckerEIP7702 checks an account delegated by EIP-7702: its own
// key still signs for it without a node round trip, and other signatures go
// to the delegated code.
func TestContractCheckerEIP7702(t *testing.T) {
	ctx := context.Background()
	key, other := newKey(t), newKey(t)
	hash := TextHash([]byte("hello"))
	delegated := append(common.FromHex("0xef0100"), common.HexToAddress("0xde1e6a7e").Bytes()...)

	caller := &stubCaller{code: delegated, callErr: &jsonRPCError{3, "execution reverted"}}
	checker := NewContractChecker(map[int64]ContractCaller{simChainID: caller}, 0)
	signer, err := checker.CheckSignature(ctx, simChainID, addrOf(key), hash, chaintest.Sign(t, key, hash))
	if err != nil || signer != addrOf(key) {
		t.Fatalf("own key: signer %s, err %v", signer, err)
	}
	if caller.calls != 0 {
		t.Fatalf("own key: %d RPC calls, want none", caller.calls)
	}
	_, err = checker.CheckSignature(ctx, simChainID, addrOf(key), hash, chaintest.Sign(t, other, hash))
	wantError(t, err, CodeInvalidGrant, descRejected)
	if caller.calls != 2 {
		t.Fatalf("other key: %d RPC calls in all, want CodeAt and isValidSignature", caller.calls)
	}
}

// TestERC6492ValidatorBytecode checks that the embedded validator is the one
// compiled from testdata/contracts/UniversalSigValidator.sol.
func TestERC6492ValidatorBytecode(t *testing.T) {
	c := NewContractChecker(nil, 0)
	if want := chaintest.Contract(t, "ValidateSigOffchain"); !bytes.Equal(c.validator, want) {
		t.Fatalf("erc6492_validator.hex differs from testdata/contracts/ValidateSigOffchain.bin")
	}
}
