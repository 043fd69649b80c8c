package op

import (
	"context"
	"sync"

	"github.com/signet-id/signet/clients"
)

// clientMemo remembers the clients one request has looked up: a sign-in
// consults its client several times (validation, signer list, lifetimes,
// claims), and one database read is enough. It lives only as long as the
// request, so a change to a client applies to the next request, on every
// replica.
type clientMemo struct {
	mu sync.Mutex
	m  map[string]*clients.Client
}

type clientMemoKey struct{}

// withClientMemo gives ctx an empty memo.
func withClientMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, clientMemoKey{}, &clientMemo{m: map[string]*clients.Client{}})
}

// lookupClients reads clients through the request's memo, if it has one.
type lookupClients struct{ registry *clients.Registry }

// get returns the client, from the memo when this request already read it.
func (l lookupClients) get(ctx context.Context, id string) (*clients.Client, error) {
	memo, _ := ctx.Value(clientMemoKey{}).(*clientMemo)
	if memo != nil {
		memo.mu.Lock()
		c, ok := memo.m[id]
		memo.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	c, err := l.registry.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if memo != nil {
		memo.mu.Lock()
		memo.m[id], memo.m[c.ID] = c, c
		memo.mu.Unlock()
	}
	return c, nil
}
