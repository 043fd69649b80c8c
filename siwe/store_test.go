package siwe

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

// memStore is an in-memory Store for tests: a mutex makes ConsumeChallenge a
// real compare-and-set. Its err* fields inject dependency failures.
type memStore struct {
	mu         sync.Mutex
	byID       map[string]*Challenge
	used       map[string]bool
	errSave    error
	errByID    error
	errByNonce error
	errConsume error
	// foldNonce makes ChallengeByNonce ignore letter case, as a careless
	// SQL collation would.
	foldNonce bool
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{byID: map[string]*Challenge{}, used: map[string]bool{}}
}

func cloneChallenge(c *Challenge) *Challenge {
	cc := *c
	cc.Scopes = slices.Clone(c.Scopes)
	return &cc
}

func (s *memStore) SaveChallenge(_ context.Context, c *Challenge) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errSave != nil {
		return s.errSave
	}
	s.byID[c.ID] = cloneChallenge(c)
	return nil
}

func (s *memStore) ChallengeByID(_ context.Context, id string) (*Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errByID != nil {
		return nil, s.errByID
	}
	c, ok := s.byID[id]
	if !ok {
		return nil, ErrChallengeNotFound
	}
	return cloneChallenge(c), nil
}

func (s *memStore) ChallengeByNonce(_ context.Context, nonce string) (*Challenge, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errByNonce != nil {
		return nil, s.errByNonce
	}
	for _, c := range s.byID {
		if c.Nonce == nonce || (s.foldNonce && strings.EqualFold(c.Nonce, nonce)) {
			return cloneChallenge(c), nil
		}
	}
	return nil, ErrChallengeNotFound
}

func (s *memStore) ConsumeChallenge(_ context.Context, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errConsume != nil {
		return s.errConsume
	}
	c, ok := s.byID[id]
	if !ok || s.used[id] || !now.Before(c.ExpiresAt) {
		return ErrChallengeUsed
	}
	s.used[id] = true
	return nil
}

func (s *memStore) isUsed(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used[id]
}
