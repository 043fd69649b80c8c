package clients

import (
	"context"
	"errors"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/siwe"
)

// Client is an application registered to sign people in through Signet.
type Client struct {
	// ID is the OAuth client_id. For a developer-license client it is the
	// license contract address (EIP-55).
	ID string
	// Name is shown on the login page.
	Name string
	// SecretHash is the hash of the client secret; empty for public clients.
	SecretHash string
	// Public clients have no secret and must use PKCE.
	Public bool
	// RedirectURIs are the registered redirect URIs (exact match, RFC 6749 §3.1.2).
	RedirectURIs []string
	// PostLogoutRedirectURIs are the registered post-logout redirect URIs.
	PostLogoutRedirectURIs []string
	// Scopes are the scopes this client may receive: known scopes (see
	// KnownScopes), then the API scopes of its own (see IsAPIScope).
	Scopes []string
	// AccessTokenTTL overrides the default access token lifetime when non-zero.
	AccessTokenTTL time.Duration
	// IDTokenTTL overrides the default ID token lifetime when non-zero.
	IDTokenTTL time.Duration
	// RefreshTokenTTL overrides the default refresh token lifetime when non-zero.
	RefreshTokenTTL time.Duration
	// LicenseChainID is the chain of the developer-license contract; zero for ordinary clients.
	LicenseChainID int64
	// Signers are the addresses allowed to sign for a developer-license client.
	Signers []common.Address
	// NoHeadless refuses the headless sign-in APIs for this client: its
	// people sign in through the browser only.
	NoHeadless bool
	// Profile, when set, serves the client's wallet login at
	// <issuer>/compat/<client_id> in the shapes of the login it replaces
	// (see Profiles).
	Profile string
	// AgentRegistries are the ERC-8004 identity registries whose agents may
	// sign in to this client (SIWA); none means no agent may.
	AgentRegistries []siwe.Registry
	// AgentOffline accepts agents whose registry's chain cannot be read (no
	// RPC endpoint): their ownership is unchecked, and their tokens say
	// agent_verified "offline".
	AgentOffline bool
	// CreatedAt is when the client was registered.
	CreatedAt time.Time
	// UpdatedAt is when the client was last changed.
	UpdatedAt time.Time
}

// IsLicense reports whether the client is a developer-license client.
func (c *Client) IsLicense() bool { return c.LicenseChainID != 0 }

// Store persists clients.
type Store interface {
	// CreateClient stores a new client; ErrClientExists when the ID is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client or ErrClientNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns every client ordered by ID.
	ListClients(ctx context.Context) ([]*Client, error)
	// UpdateClient replaces a stored client; ErrClientNotFound when absent.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes a client; ErrClientNotFound when absent.
	DeleteClient(ctx context.Context, id string) error
}

// Store errors.
var (
	// ErrClientNotFound reports an unknown client ID.
	ErrClientNotFound = errors.New("clients: client not found")
	// ErrClientExists reports a client ID that is already registered.
	ErrClientExists = errors.New("clients: client already exists")
)
