package clients

import (
	"context"
	"sync"
	"time"
)

// Origins answers CORS checks: an origin is allowed when it is the origin
// of some client's redirect URI. The set is reloaded at most every ttl.
type Origins struct {
	registry *Registry
	now      func() time.Time
	ttl      time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	origins  map[string]bool
}

// NewOrigins returns the origins of r's clients, reloaded at most every ttl.
func NewOrigins(r *Registry, now func() time.Time, ttl time.Duration) *Origins {
	return &Origins{registry: r, now: now, ttl: ttl}
}

// Allowed reports whether origin may call the provider from a browser.
func (o *Origins) Allowed(origin string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.origins == nil || o.now().Sub(o.loadedAt) >= o.ttl {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		list, err := o.registry.List(ctx)
		if err == nil {
			set := map[string]bool{}
			for _, c := range list {
				for _, og := range c.RedirectOrigins() {
					set[og] = true
				}
			}
			o.origins, o.loadedAt = set, o.now()
		}
	}
	return o.origins[origin]
}
