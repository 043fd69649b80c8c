package chaintest

import (
	"context"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
)

// ErrDeadNode is what DeadCaller answers: an RPC endpoint that is down.
var ErrDeadNode = errors.New("dial tcp 127.0.0.1:8545: connect: connection refused (dead node)")

// DeadCaller is an RPC endpoint that is down: every call fails at once.
type DeadCaller struct{}

// CodeAt fails with ErrDeadNode.
func (DeadCaller) CodeAt(context.Context, common.Address, *big.Int) ([]byte, error) {
	return nil, ErrDeadNode
}

// CallContract fails with ErrDeadNode.
func (DeadCaller) CallContract(context.Context, ethereum.CallMsg, *big.Int) ([]byte, error) {
	return nil, ErrDeadNode
}

// HangingCaller is an RPC endpoint that never answers: calls return only
// when ctx is done.
type HangingCaller struct{}

// CodeAt waits for ctx.
func (HangingCaller) CodeAt(ctx context.Context, _ common.Address, _ *big.Int) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// CallContract waits for ctx.
func (HangingCaller) CallContract(ctx context.Context, _ ethereum.CallMsg, _ *big.Int) ([]byte, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
