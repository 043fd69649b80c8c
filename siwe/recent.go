package siwe

import (
	"context"
	"sync"
)

// recentSize is how many of its latest challenges a Verifier remembers:
// a few seconds of issuance at full load, about 3 MB.
const recentSize = 4096

// recent remembers the challenges this Verifier issued lately, so that the
// submission that usually follows within milliseconds does not read back
// what this process just wrote. A challenge never changes after it is
// issued; whether it was used lives only in the store, whose conditional
// consume stays the one judge of single use and expiry. Challenges issued
// by another replica, or forgotten, are read from the store.
type recent struct {
	mu      sync.Mutex
	byID    map[string]*Challenge
	byNonce map[string]*Challenge
	ring    [recentSize]*Challenge
	next    int
}

func (r *recent) add(c *Challenge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID, r.byNonce = make(map[string]*Challenge, recentSize), make(map[string]*Challenge, recentSize)
	}
	if old := r.ring[r.next]; old != nil {
		delete(r.byID, old.ID)
		delete(r.byNonce, old.Nonce)
	}
	r.ring[r.next] = c
	r.next = (r.next + 1) % recentSize
	r.byID[c.ID], r.byNonce[c.Nonce] = c, c
}

func (r *recent) get(id, nonce string) *Challenge {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id != "" {
		return r.byID[id]
	}
	return r.byNonce[nonce]
}

// Challenge returns the challenge with the given ID (the "state" of the
// headless flow, the challenge ID of the login page), or ErrChallengeNotFound.
// The challenge is shared: callers must not modify it.
func (v *Verifier) Challenge(ctx context.Context, id string) (*Challenge, error) {
	if c := v.recent.get(id, ""); c != nil {
		return c, nil
	}
	return v.store.ChallengeByID(ctx, id)
}

// challengeByNonce is Challenge by nonce.
func (v *Verifier) challengeByNonce(ctx context.Context, nonce string) (*Challenge, error) {
	if c := v.recent.get("", nonce); c != nil {
		return c, nil
	}
	return v.store.ChallengeByNonce(ctx, nonce)
}
