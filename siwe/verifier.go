package siwe

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/random"
)

// Verifier issues challenges and verifies signed EIP-4361 messages against them.
type Verifier struct {
	cfg       Config
	store     Store
	now       func() time.Time
	checker   SignatureChecker
	delegates Delegates

	randMu sync.Mutex // an injected random source need not be safe for concurrent use
	random io.Reader
}

// Option changes a default of a [Verifier].
type Option func(*Verifier)

// WithClock sets the clock (default time.Now); nil keeps the default.
func WithClock(now func() time.Time) Option {
	return func(v *Verifier) {
		if now != nil {
			v.now = now
		}
	}
}

// WithRandom sets the source of nonces and IDs (default crypto/rand.Reader); nil keeps the default.
func WithRandom(r io.Reader) Option {
	return func(v *Verifier) {
		if r != nil {
			v.random = r
		}
	}
}

// WithSignatureChecker sets how signatures are checked (default [EOAChecker]); nil keeps the default.
func WithSignatureChecker(c SignatureChecker) Option {
	return func(v *Verifier) {
		if c != nil {
			v.checker = c
		}
	}
}

// Delegates names the keys allowed to sign on behalf of a challenge's
// account without being it: the enabled signers of a developer license.
type Delegates interface {
	// Delegates returns the keys that may sign for c.Address, or none.
	Delegates(ctx context.Context, c *Challenge) ([]common.Address, error)
}

// WithDelegates lets keys other than the account sign for it (developer
// licenses); nil keeps the default, none.
func WithDelegates(d Delegates) Option {
	return func(v *Verifier) {
		if d != nil {
			v.delegates = d
		}
	}
}

// NewVerifier returns a Verifier for cfg that keeps challenges in store; it
// fails when cfg is invalid (see [Config.Validate]).
func NewVerifier(cfg Config, store Store, opts ...Option) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("siwe: store is nil")
	}
	v := &Verifier{
		cfg:     cfg.withDefaults(),
		store:   store,
		now:     time.Now,
		checker: EOAChecker{},
		random:  rand.Reader,
	}
	for _, opt := range opts {
		if opt != nil {
			opt(v)
		}
	}
	return v, nil
}

// Alphabets for random strings.
const (
	alphanumeric = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	urlSafe      = alphanumeric + "-_"
)

// randomString returns n characters drawn uniformly from alphabet out of
// the injected random source.
func (v *Verifier) randomString(n int, alphabet string) (string, error) {
	v.randMu.Lock()
	defer v.randMu.Unlock()
	return random.String(v.random, n, alphabet)
}

// Challenge returns the challenge with the given ID (the "state" of the
// headless flow, the challenge ID of the login page), or ErrChallengeNotFound.
func (v *Verifier) Challenge(ctx context.Context, id string) (*Challenge, error) {
	return v.store.ChallengeByID(ctx, id)
}

// challengeByNonce is Challenge by nonce.
func (v *Verifier) challengeByNonce(ctx context.Context, nonce string) (*Challenge, error) {
	return v.store.ChallengeByNonce(ctx, nonce)
}
