package clients

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
)

// countingStore counts reads, to tell cache hits from store reads.
type countingStore struct {
	*memStore
	reads int
}

func (s *countingStore) GetClient(ctx context.Context, id string) (*Client, error) {
	s.reads++
	return s.memStore.GetClient(ctx, id)
}

func newFakeClock() *clocktest.Clock { return clocktest.New(t0) }

func addPublic(t *testing.T, r *Registry) *Client {
	t.Helper()
	c, _, err := r.Add(context.Background(), Params{Name: "App", RedirectURIs: []string{"https://app.example/cb"}, Public: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCacheServesRepeatedReads(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	store := &countingStore{memStore: newMemStore()}
	reg := NewRegistry(store, WithClock(clock.Now), WithCache(time.Second))
	c := addPublic(t, reg)

	for range 3 {
		if _, err := reg.Get(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 1 {
		t.Fatalf("3 reads within the lifetime reached the store %d times, want 1", store.reads)
	}
	clock.Advance(time.Second)
	if _, err := reg.Get(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if store.reads != 2 {
		t.Fatalf("a read after the lifetime reached the store %d times in all, want 2", store.reads)
	}
}

func TestCacheWithoutOptionReadsEveryTime(t *testing.T) {
	ctx := context.Background()
	store := &countingStore{memStore: newMemStore()}
	reg := NewRegistry(store)
	c := addPublic(t, reg)
	for range 3 {
		if _, err := reg.Get(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if store.reads != 3 {
		t.Fatalf("store reads = %d, want 3", store.reads)
	}
}

// A change made elsewhere (another replica, the admin CLI) applies once the
// entry expires; a change made through the registry itself applies at once.
func TestCacheSeesChanges(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	store := newMemStore()
	server := NewRegistry(store, WithClock(clock.Now), WithCache(time.Second))
	admin := NewRegistry(store, WithClock(clock.Now))

	c := addPublic(t, admin)
	if _, err := server.Get(ctx, c.ID); err != nil {
		t.Fatalf("a client added elsewhere is not seen at once: %v", err)
	}

	name := "Renamed"
	if _, err := admin.Update(ctx, c.ID, Changes{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if got, _ := server.Get(ctx, c.ID); got.Name != "App" {
		t.Fatalf("within the lifetime, name = %q; the cached client should still answer", got.Name)
	}
	clock.Advance(time.Second)
	if got, _ := server.Get(ctx, c.ID); got.Name != "Renamed" {
		t.Fatalf("after the lifetime, name = %q, want the change", got.Name)
	}

	name = "Again"
	if _, err := server.Update(ctx, c.ID, Changes{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if got, _ := server.Get(ctx, c.ID); got.Name != "Again" {
		t.Fatalf("a change through the registry itself: name = %q, want it at once", got.Name)
	}

	if err := server.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Get(ctx, c.ID); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("a removed client: err = %v, want ErrClientNotFound at once", err)
	}
}

// Update starts from the stored client, not a cached one, so that it never
// undoes a change made elsewhere.
func TestCacheUpdateStartsFromStore(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	store := newMemStore()
	server := NewRegistry(store, WithClock(clock.Now), WithCache(time.Hour))
	admin := NewRegistry(store, WithClock(clock.Now))
	c := addPublic(t, server)
	if _, err := server.Get(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Update(ctx, c.ID, Changes{AddRedirectURIs: []string{"https://app.example/other"}}); err != nil {
		t.Fatal(err)
	}
	name := "Renamed"
	got, err := server.Update(ctx, c.ID, Changes{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.RedirectURIs) != 2 {
		t.Fatalf("redirect URIs = %v: the update undid a change made elsewhere", got.RedirectURIs)
	}
}

func TestCacheRotatedSecretAppliesAtOnce(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	reg := NewRegistry(newMemStore(), WithClock(clock.Now), WithCache(time.Hour))
	c, old, err := reg.Add(ctx, Params{Name: "App", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if !secretOpens(t, reg, c.ID, old) {
		t.Fatal("the secret does not work")
	}
	secret, err := reg.RotateSecret(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secretOpens(t, reg, c.ID, old) {
		t.Fatal("the old secret still works after rotation")
	}
	if !secretOpens(t, reg, c.ID, secret) {
		t.Fatal("the new secret does not work")
	}
}

func TestCacheIsBounded(t *testing.T) {
	clock := newFakeClock()
	c := newCache(time.Second, clock.Now)
	for i := range maxCached + 10 {
		c.put(&Client{ID: string(rune('a'+i%26)) + time.Duration(i).String()})
	}
	if n := len(c.m); n > maxCached {
		t.Fatalf("cache holds %d entries, more than %d", n, maxCached)
	}
}
