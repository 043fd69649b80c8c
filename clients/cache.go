package clients

import (
	"sync"
	"time"
)

// cache keeps clients read from the store for a short time: every sign-in
// reads its client on each of its requests, and clients change rarely.
//
// A change made through the same Registry drops the entry at once. A change
// made elsewhere (another replica, the admin CLI) is seen when the entry
// expires, within the cache's lifetime. Unknown IDs are never cached, so a
// newly added client works at once everywhere.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	c       *Client
	expires time.Time
}

// maxCached bounds the cache; past it, expired entries are dropped, and if
// none had expired, everything is.
const maxCached = 10_000

func newCache(ttl time.Duration, now func() time.Time) *cache {
	return &cache{ttl: ttl, now: now, m: map[string]cacheEntry{}}
}

// get returns the cached client with this normalized ID, if it is fresh. The
// client is shared: callers must not modify it.
func (c *cache) get(id string) (*Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.m, id)
		return nil, false
	}
	return e.c, true
}

func (c *cache) put(cl *Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= maxCached {
		for id, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, id)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	c.m[cl.ID] = cacheEntry{c: cl, expires: now.Add(c.ttl)}
}

func (c *cache) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}
