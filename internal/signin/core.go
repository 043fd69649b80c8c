package signin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/metrics"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// Clients is the part of the client registry sign-ins read;
// *clients.Registry is one.
type Clients interface {
	Get(ctx context.Context, id string) (*clients.Client, error)
}

// Tokens is what a verified sign-in earns, from the OpenID provider. Both
// methods consume the challenge in the transaction that stores the login,
// and return siwe.ErrChallengeReused when it was already used.
type Tokens interface {
	// Issue stores the login and issues tokens for a headless sign-in.
	Issue(ctx context.Context, ch *siwe.Challenge, l *storage.Login) (*oidc.AccessTokenResponse, error)
	// Complete attaches the login to the browser's authorization request
	// and returns the URL the browser goes to next (the callback that
	// redirects to the app with the code).
	Complete(ctx context.Context, authRequestID string, ch *siwe.Challenge, l *storage.Login) (string, error)
}

// Names finds an account's verified primary name (ENS), "" for none.
type Names interface {
	Name(ctx context.Context, addr common.Address) (string, error)
}

// Config is what Core needs to know of the server's configuration.
type Config struct {
	// ChainIDs are the chains a sign-in may name; the first is the default.
	ChainIDs []int64
	// LoginTTL bounds how long a login record waits for its tokens.
	LoginTTL time.Duration
}

// Deps are the parts Core works with; Names, Agents, Open, Metrics, Log and
// Now may be nil.
type Deps struct {
	Verifier *siwe.Verifier
	Clients  Clients
	Tokens   Tokens
	Names    Names
	// Agents checks agent sign-ins (SIWA); nil reads no registry, so that
	// agents sign in only offline, where their client accepts it.
	Agents *agents.Checker
	// Open lists a wallet's open challenges, for RedeemOpen; nil: none.
	Open    OpenChallenges
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// Core runs sign-ins for every surface.
type Core struct {
	cfg Config
	Deps
}

// New returns a Core.
func New(cfg Config, d Deps) *Core {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = metrics.New(nil)
	}
	if d.Agents == nil {
		d.Agents = agents.New(agents.Config{Log: d.Log})
	}
	return &Core{cfg: cfg, Deps: d}
}

// client returns a registered client; an unknown ID is invalid_client.
func (c *Core) client(ctx context.Context, id string) (*clients.Client, error) {
	cl, err := c.Clients.Get(ctx, id)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, &httpapi.Error{Status: 401, Code: "invalid_client", Description: "unknown client_id"}
	}
	return cl, err
}

// Challenge returns a challenge issued earlier by its ID (the "state" of
// DIMO's flow, the challenge ID of the login page).
func (c *Core) Challenge(ctx context.Context, id string) (*siwe.Challenge, error) {
	ch, err := c.Verifier.Challenge(ctx, id)
	if errors.Is(err, siwe.ErrChallengeNotFound) {
		return nil, &httpapi.Error{Status: 400, Code: "invalid_grant", Description: "unknown or expired challenge (state); ask for a new one", Check: siwe.CheckNonce}
	}
	return ch, err
}
