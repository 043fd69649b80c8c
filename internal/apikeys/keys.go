package apikeys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/storage"
)

// Store keeps keys; *storage.DB is one.
type Store interface {
	// CreateAPIKey stores k unless its wallet has maxActive active keys at
	// its client (storage.ErrLimit).
	CreateAPIKey(ctx context.Context, k *storage.APIKey, maxActive int) error
	// APIKeyByHash finds a key by its SHA-256, active or not.
	APIKeyByHash(ctx context.Context, hash string) (*storage.APIKey, error)
	// ActiveAPIKeys lists a wallet's active keys at a client.
	ActiveAPIKeys(ctx context.Context, clientID, subject string) ([]*storage.APIKey, error)
	// RevokeAPIKey revokes a wallet's active key (storage.ErrNotFound if none).
	RevokeAPIKey(ctx context.Context, clientID, subject, id string) error
	// RotateAPIKey revokes a wallet's active key and stores next, at once.
	RotateAPIKey(ctx context.Context, clientID, subject, id string, next *storage.APIKey) error
}

// Clients finds registered clients; *clients.Registry is one.
type Clients interface {
	Get(ctx context.Context, id string) (*clients.Client, error)
}

// Config is what Keys works with; Log, Now and Random may be zero.
type Config struct {
	Store   Store
	Clients Clients
	// Log receives the audit events; nil discards them.
	Log *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Random is the source of keys and IDs; nil: crypto/rand.
	Random io.Reader
}

// Keys creates, lists, revokes, rotates and checks API keys; use [New].
type Keys struct{ cfg Config }

// New returns Keys over cfg.
func New(cfg Config) *Keys {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	return &Keys{cfg: cfg}
}

// Owner is a wallet at a client: whose keys these are.
type Owner struct {
	ClientID string
	// Subject is the wallet's CAIP-10 account.
	Subject string
}

// Caller is a wallet signed in to a client, managing its keys.
type Caller struct {
	Owner
	// Scopes are the scopes the caller's access token carries: a key it
	// makes never gets more.
	Scopes []string
}

// Key is a key as listed: never the key itself.
type Key struct {
	ID    string
	Label string
	// Scopes are what the key grants now: those it was given that the
	// client still has.
	Scopes    []string
	CreatedAt time.Time
	// RotatedFrom names the key this one replaced, if any.
	RotatedFrom string
}

// Issued is a key just made, with its value, which is shown this once.
type Issued struct {
	Key
	Value string
}

// Active is a key that passed Check.
type Active struct {
	ID string
	Owner
	// Scopes are the key's scopes that its client still has.
	Scopes []string
}

// ErrInactive is any credential that is not an active key of the client
// that asks: unknown, revoked, rotated away, another client's, or a key
// whose client is gone. Introspection answers it {"active": false}.
var ErrInactive = errors.New("apikeys: not an active API key of this client")

// Errors of the key endpoints, each with its status.
var (
	errNotFound    = &httpapi.Error{Status: 404, Code: "not_found", Description: "this wallet has no active API key with this id at this client"}
	errNoClient    = &httpapi.Error{Status: 401, Code: "invalid_token", Description: "the access token's client is not registered"}
	errTooManyKeys = httpapi.BadRequest(fmt.Sprintf("this wallet already has %d active API keys at this client; revoke or rotate one", MaxActive))
	errLabel       = httpapi.BadRequest(fmt.Sprintf("label must be at most %d characters, without control characters", MaxLabel))
	errOIDCScope   = &httpapi.Error{Status: 400, Code: "invalid_scope", Description: "API keys carry API scopes only, not OpenID Connect ones"}
)

// Create makes a key for the caller's wallet at its client, with a label
// and scopes, and returns it with its value, shown only now.
func (k *Keys) Create(ctx context.Context, c Caller, label string, scopes []string) (*Issued, error) {
	label, ok := cleanLabel(label)
	if !ok {
		return nil, errLabel
	}
	cl, err := k.client(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	scopes, err = grantable(cl, scopes, c.Scopes)
	if err != nil {
		return nil, err
	}
	issued, row, err := k.mint(cl, c.Owner, label, scopes, "")
	if err != nil {
		return nil, err
	}
	if err := k.cfg.Store.CreateAPIKey(ctx, row, MaxActive); err != nil {
		if errors.Is(err, storage.ErrLimit) {
			return nil, errTooManyKeys
		}
		return nil, err
	}
	k.audit(ctx, "api_key_created", c.Owner, row.ID, "scopes", scopes)
	return issued, nil
}

// List returns the wallet's active keys at its client, oldest first.
func (k *Keys) List(ctx context.Context, o Owner) ([]Key, error) {
	cl, err := k.client(ctx, o.ClientID)
	if err != nil {
		return nil, err
	}
	rows, err := k.cfg.Store.ActiveAPIKeys(ctx, o.ClientID, o.Subject)
	if err != nil {
		return nil, err
	}
	out := []Key{}
	for _, r := range rows {
		if belongs(r, cl) {
			out = append(out, listed(r, cl))
		}
	}
	return out, nil
}

// Revoke ends the wallet's key id at once, on every replica.
func (k *Keys) Revoke(ctx context.Context, o Owner, id string) error {
	if !validID(id) {
		return errNotFound
	}
	err := k.cfg.Store.RevokeAPIKey(ctx, o.ClientID, o.Subject, id)
	if errors.Is(err, storage.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	k.audit(ctx, "api_key_revoked", o, id)
	return nil
}

// Rotate replaces the wallet's key id with a new one of the same label and
// scopes, shown only now; the old key stops working at once.
func (k *Keys) Rotate(ctx context.Context, c Caller, id string) (*Issued, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	cl, err := k.client(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	rows, err := k.cfg.Store.ActiveAPIKeys(ctx, c.ClientID, c.Subject)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(rows, func(r *storage.APIKey) bool { return r.ID == id && belongs(r, cl) })
	if i < 0 {
		return nil, errNotFound
	}
	old := listed(rows[i], cl)
	// A new key is new power: the caller's token must hold its scopes, as
	// for Create.
	if _, err := grantable(cl, old.Scopes, c.Scopes); err != nil {
		return nil, err
	}
	issued, row, err := k.mint(cl, c.Owner, old.Label, old.Scopes, id)
	if err != nil {
		return nil, err
	}
	err = k.cfg.Store.RotateAPIKey(ctx, c.ClientID, c.Subject, id, row)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNotFound // revoked or rotated meanwhile
	}
	if err != nil {
		return nil, err
	}
	k.audit(ctx, "api_key_rotated", c.Owner, row.ID, "rotated_from", id)
	return issued, nil
}

// Check finds the active key whose value is raw, for clientID (the client
// that introspects or exchanges it; RFC 7662 §2.2 lets the server decide
// what a caller may learn, and a key is for its own client only). The
// database is read every time, so a key revoked on any replica fails at
// once. use names the check in the audit event ("introspection", …).
func (k *Keys) Check(ctx context.Context, raw, clientID, use string) (*Active, error) {
	if !Shaped(raw) {
		return nil, ErrInactive
	}
	row, err := k.cfg.Store.APIKeyByHash(ctx, hash(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInactive
	}
	if err != nil {
		return nil, err
	}
	if !row.Active() || row.ClientID != clients.NormalizeID(clientID) {
		return nil, ErrInactive
	}
	cl, err := k.cfg.Clients.Get(ctx, row.ClientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, ErrInactive
	}
	if err != nil {
		return nil, err
	}
	if !belongs(row, cl) {
		return nil, ErrInactive
	}
	a := &Active{ID: row.ID, Owner: Owner{ClientID: row.ClientID, Subject: row.Subject}, Scopes: listed(row, cl).Scopes}
	k.audit(ctx, "api_key_used", a.Owner, a.ID, "use", use)
	return a, nil
}

// Narrow returns the scopes asked of an active key (RFC 8693 §2.1 scope),
// which must be among its scopes (RFC 6749 §5.2 invalid_scope); none asked
// means all of them.
func Narrow(a *Active, asked []string) ([]string, error) {
	if len(asked) == 0 {
		return slices.Clone(a.Scopes), nil
	}
	var out []string
	for _, s := range asked {
		if !slices.Contains(a.Scopes, s) {
			return nil, &httpapi.Error{Status: 400, Code: "invalid_scope", Description: fmt.Sprintf("scope %q is not one of the API key's scopes", s)}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// client returns the caller's client; one that is gone makes its token
// worthless here.
func (k *Keys) client(ctx context.Context, id string) (*clients.Client, error) {
	cl, err := k.cfg.Clients.Get(ctx, id)
	if errors.Is(err, clients.ErrClientNotFound) {
		return nil, errNoClient
	}
	return cl, err
}

// belongs reports whether a stored key belongs to the client as it is now:
// a key is made after its client, so one older than the client is a key of
// a removed client that had the same ID.
func belongs(r *storage.APIKey, cl *clients.Client) bool {
	return r.ClientID == cl.ID && !r.CreatedAt.Before(cl.CreatedAt)
}

// listed is a stored key as shown, with the scopes it grants now: a key's
// scopes are limited, at every use, to those its client still has.
func listed(r *storage.APIKey, cl *clients.Client) Key {
	scopes := []string{}
	for _, s := range r.Scopes {
		if cl.ScopeAllowed(s) {
			scopes = append(scopes, s)
		}
	}
	return Key{ID: r.ID, Label: r.Label, Scopes: scopes, CreatedAt: r.CreatedAt, RotatedFrom: r.RotatedFrom}
}

// grantable checks the scopes asked for a key and returns them without
// duplicates: API scopes of the client (else invalid_scope, RFC 6749 §5.2),
// which the caller's token holds (else insufficient_scope, RFC 6750 §3.1).
func grantable(cl *clients.Client, asked, held []string) ([]string, error) {
	out := []string{}
	for _, s := range asked {
		switch {
		case slices.Contains(clients.KnownScopes(), s):
			return nil, errOIDCScope
		case !clients.IsAPIScope(s) || !cl.ScopeAllowed(s):
			return nil, &httpapi.Error{Status: 400, Code: "invalid_scope", Description: fmt.Sprintf("scope %q is not one of this client's API scopes", s)}
		case !slices.Contains(held, s):
			return nil, &httpapi.Error{Status: 403, Code: "insufficient_scope",
				Description: fmt.Sprintf("the access token does not carry scope %q: sign in asking for it to give it to a key", s)}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// mint draws a new key for o at cl: the value to show once and the row to
// store, which holds its SHA-256 only.
func (k *Keys) mint(cl *clients.Client, o Owner, label string, scopes []string, rotatedFrom string) (*Issued, *storage.APIKey, error) {
	b := make([]byte, keyBytes+idBytes)
	if _, err := io.ReadFull(k.cfg.Random, b); err != nil {
		return nil, nil, fmt.Errorf("apikeys: draw a key: %w", err)
	}
	value := Prefix(cl) + hex.EncodeToString(b[:keyBytes])
	row := &storage.APIKey{
		ID: "key_" + hex.EncodeToString(b[keyBytes:]), ClientID: o.ClientID, Subject: o.Subject, Label: label,
		Scopes: scopes, Hash: hash(value), CreatedAt: k.cfg.Now().UTC(), RotatedFrom: rotatedFrom,
	}
	issued := &Issued{Key: Key{ID: row.ID, Label: label, Scopes: scopes, CreatedAt: row.CreatedAt, RotatedFrom: rotatedFrom}, Value: value}
	return issued, row, nil
}

// audit records a key's creation, revocation, rotation or use: client,
// account, key ID and request ID, never the key.
func (k *Keys) audit(ctx context.Context, event string, o Owner, id string, attrs ...any) {
	attrs = append([]any{"event", event, "client_id", o.ClientID, "sub", o.Subject, "key_id", id, "request_id", httpapi.RequestID(ctx)}, attrs...)
	k.cfg.Log.InfoContext(ctx, strings.ReplaceAll(event, "_", " "), attrs...)
}
