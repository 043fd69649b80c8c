package clients

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
)

// memStore is a map-backed Store for registry tests; it copies clients in and
// out, as a database would.
type memStore struct {
	mu      sync.Mutex
	clients map[string]*Client
	err     error // when set, every call fails with it
}

var _ Store = (*memStore)(nil)

func newMemStore() *memStore { return &memStore{clients: map[string]*Client{}} }

func (s *memStore) CreateClient(_ context.Context, c *Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.clients[c.ID]; ok {
		return ErrClientExists
	}
	s.clients[c.ID] = c.clone()
	return nil
}

func (s *memStore) GetClient(_ context.Context, id string) (*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	c, ok := s.clients[id]
	if !ok {
		return nil, ErrClientNotFound
	}
	return c.clone(), nil
}

func (s *memStore) ListClients(context.Context) ([]*Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	var out []*Client
	for _, c := range s.clients {
		out = append(out, c.clone())
	}
	slices.SortFunc(out, func(a, b *Client) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (s *memStore) UpdateClient(_ context.Context, c *Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.clients[c.ID]; !ok {
		return ErrClientNotFound
	}
	s.clients[c.ID] = c.clone()
	return nil
}

func (s *memStore) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if _, ok := s.clients[id]; !ok {
		return ErrClientNotFound
	}
	delete(s.clients, id)
	return nil
}

// stored returns a copy of the stored client, or nil.
func (s *memStore) stored(id string) *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; ok {
		return c.clone()
	}
	return nil
}

// countingReader yields the bytes 0, 1, 2, … so generated IDs and secrets are predictable.
type countingReader struct {
	mu sync.Mutex
	n  byte
}

func (r *countingReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestRegistry returns a registry over a fresh memStore with a fake clock
// at t0 and counting randomness, plus the store and clock.
func newTestRegistry(opts ...Option) (*Registry, *memStore, *clocktest.Clock) {
	store := newMemStore()
	clock := clocktest.New(t0)
	opts = append([]Option{WithClock(clock.Now), WithRandom(&countingReader{})}, opts...)
	return NewRegistry(store, opts...), store, clock
}

// problemsOf returns the problems of a *ValidationError, failing the test for any other error.
func problemsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	return ve.Problems
}
