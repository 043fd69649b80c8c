package op

import (
	"context"
	"sync"
	"time"

	"github.com/signet-id/signet/clients"
)

// originSet answers CORS checks: an origin is allowed when it is the origin
// of some client's redirect URI. The set is reloaded at most every ttl.
type originSet struct {
	registry *clients.Registry
	now      func() time.Time
	ttl      time.Duration

	mu       sync.Mutex
	loadedAt time.Time
	origins  map[string]bool
}

func newOriginSet(r *clients.Registry, now func() time.Time, ttl time.Duration) *originSet {
	return &originSet{registry: r, now: now, ttl: ttl}
}

func (o *originSet) allowed(origin string) bool {
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
