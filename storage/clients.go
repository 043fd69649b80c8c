package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/siwe"
)

var _ clients.Store = (*DB)(nil)

// CreateClient stores a new client.
func (db *DB) CreateClient(ctx context.Context, c *clients.Client) error {
	err := translate(db.gorm.WithContext(ctx).Create(clientToRow(c)).Error)
	if err == ErrConflict {
		return fmt.Errorf("client %q: %w", c.ID, clients.ErrClientExists)
	}
	return err
}

// GetClient returns one client.
func (db *DB) GetClient(ctx context.Context, id string) (*clients.Client, error) {
	var row clientRow
	err := translate(db.read.WithContext(ctx).Where("id = ?", id).Take(&row).Error)
	if err == ErrNotFound {
		return nil, fmt.Errorf("client %q: %w", id, clients.ErrClientNotFound)
	}
	if err != nil {
		return nil, err
	}
	return rowToClient(&row), nil
}

// ListClients returns every client ordered by ID.
func (db *DB) ListClients(ctx context.Context) ([]*clients.Client, error) {
	var rows []clientRow
	if err := db.read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]*clients.Client, len(rows))
	for i := range rows {
		out[i] = rowToClient(&rows[i])
	}
	return out, nil
}

// UpdateClient replaces a stored client.
func (db *DB) UpdateClient(ctx context.Context, c *clients.Client) error {
	row := clientToRow(c)
	res := db.gorm.WithContext(ctx).Model(&clientRow{}).Where("id = ?", c.ID).
		Select("*").Omit("id", "created_at").Updates(row)
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("client %q: %w", c.ID, clients.ErrClientNotFound)
	}
	return nil
}

// DeleteClient removes a client and the tokens issued to it.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&clientRow{})
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("client %q: %w", id, clients.ErrClientNotFound)
	}
	// Tokens of a removed client must stop working at once.
	return db.gorm.WithContext(ctx).Model(&tokenRow{}).
		Where("client_id = ? AND revoked_at = 0", id).
		Update("revoked_at", db.nowMS()).Error
}

func clientToRow(c *clients.Client) *clientRow {
	signers := make([]string, len(c.Signers))
	for i, s := range c.Signers {
		signers[i] = s.Hex()
	}
	return &clientRow{
		ID:                     c.ID,
		Name:                   c.Name,
		SecretHash:             c.SecretHash,
		Public:                 c.Public,
		RedirectURIs:           nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs),
		Scopes:                 nonNil(c.Scopes),
		AccessTokenTTLMS:       c.AccessTokenTTL.Milliseconds(),
		IDTokenTTLMS:           c.IDTokenTTL.Milliseconds(),
		RefreshTokenTTLMS:      c.RefreshTokenTTL.Milliseconds(),
		LicenseChainID:         c.LicenseChainID,
		Signers:                signers,
		NoHeadless:             c.NoHeadless,
		Profile:                c.Profile,
		AgentRegistries:        registryNames(c.AgentRegistries),
		AgentOffline:           c.AgentOffline,
		CreatedAt:              toMS(c.CreatedAt),
		UpdatedAt:              toMS(c.UpdatedAt),
	}
}

func rowToClient(r *clientRow) *clients.Client {
	signers := make([]common.Address, len(r.Signers))
	for i, s := range r.Signers {
		signers[i] = common.HexToAddress(s)
	}
	return &clients.Client{
		ID:                     r.ID,
		Name:                   r.Name,
		SecretHash:             r.SecretHash,
		Public:                 r.Public,
		RedirectURIs:           r.RedirectURIs,
		PostLogoutRedirectURIs: r.PostLogoutRedirectURIs,
		Scopes:                 r.Scopes,
		AccessTokenTTL:         time.Duration(r.AccessTokenTTLMS) * time.Millisecond,
		IDTokenTTL:             time.Duration(r.IDTokenTTLMS) * time.Millisecond,
		RefreshTokenTTL:        time.Duration(r.RefreshTokenTTLMS) * time.Millisecond,
		LicenseChainID:         r.LicenseChainID,
		Signers:                signers,
		NoHeadless:             r.NoHeadless,
		Profile:                r.Profile,
		AgentRegistries:        parseRegistries(r.AgentRegistries),
		AgentOffline:           r.AgentOffline,
		CreatedAt:              fromMS(r.CreatedAt),
		UpdatedAt:              fromMS(r.UpdatedAt),
	}
}

// registryNames are the stored names of agent registries.
func registryNames(rs []siwe.Registry) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// parseRegistries reads stored registry names; the registry validated them
// before they were stored, so a name that does not parse is skipped.
func parseRegistries(names []string) []siwe.Registry {
	var out []siwe.Registry
	for _, s := range names {
		if r, err := siwe.ParseRegistry(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
