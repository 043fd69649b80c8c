package apikeys

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/bearer"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/storage"
)

// Tokens finds issued access tokens as stored; *storage.DB is one.
type Tokens interface {
	TokenByID(ctx context.Context, id string) (*storage.Token, error)
}

// API serves a wallet's keys at a client, with an access token of that
// client as Bearer (RFC 6750 §2.1):
//   - POST /api/keys {label, scopes} → 201 {id, key, label, scopes, created_at}
//   - GET /api/keys → {keys: [{id, label, scopes, created_at}]}
//   - DELETE /api/keys/{id} → 204
//   - POST /api/keys/{id}/rotate → 201 as POST /api/keys, with rotated_from
//
// Errors are RFC 6749 §5.2 JSON; a missing or bad token is 401
// invalid_token with WWW-Authenticate: Bearer (RFC 6750 §3).
type API struct {
	Keys *Keys
	// Verifier checks the Bearer token offline (signature, issuer, exp,
	// one audience: the client).
	Verifier *bearer.Verifier
	// Issued tells whether the token is still active: a token revoked at
	// /revoke or ended with its session manages no keys.
	Issued Tokens
	// Limits bound the creation of keys per caller.
	Limits *httpapi.Limits
	// Log records failures that are not the caller's; nil discards them.
	Log *slog.Logger
	// Wrap, if set, wraps the endpoints (e.g. in CORS).
	Wrap func(http.Handler) http.Handler
}

// Register adds the endpoints to mux.
func (a *API) Register(mux *http.ServeMux) {
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	inner := http.NewServeMux()
	inner.HandleFunc("POST /api/keys", a.create)
	inner.HandleFunc("GET /api/keys", a.list)
	inner.HandleFunc("DELETE /api/keys/{id}", a.revoke)
	inner.HandleFunc("POST /api/keys/{id}/rotate", a.rotate)
	inner.HandleFunc("/api/keys/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "no such endpoint", false)
	})
	inner.HandleFunc("/api/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "GET, POST")
		httpapi.WriteError(w, http.StatusMethodNotAllowed, "invalid_request", "use GET or POST", false)
	})
	var h http.Handler = inner
	if a.Wrap != nil {
		h = a.Wrap(h)
	}
	mux.Handle("/api/keys", h)
	mux.Handle("/api/keys/", h)
}

// keyJSON is a key as the endpoints show it; Value only when just made.
type keyJSON struct {
	ID          string   `json:"id"`
	Value       string   `json:"key,omitempty"`
	Label       string   `json:"label"`
	Scopes      []string `json:"scopes"`
	CreatedAt   string   `json:"created_at"`
	RotatedFrom string   `json:"rotated_from,omitempty"`
}

func toJSON(k Key, value string) keyJSON {
	return keyJSON{ID: k.ID, Value: value, Label: k.Label, Scopes: k.Scopes, CreatedAt: k.CreatedAt.UTC().Format(time.RFC3339), RotatedFrom: k.RotatedFrom}
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r)
	if !ok || !a.allow(w, r, c) {
		return
	}
	var req struct {
		Label  string   `json:"label"`
		Scopes []string `json:"scopes"`
	}
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		a.fail(w, r, err)
		return
	}
	k, err := a.Keys.Create(r.Context(), *c, req.Label, req.Scopes)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, toJSON(k.Key, k.Value))
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r)
	if !ok {
		return
	}
	keys, err := a.Keys.List(r.Context(), c.Owner)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]keyJSON, len(keys))
	for i, k := range keys {
		out[i] = toJSON(k, "")
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (a *API) revoke(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r)
	if !ok {
		return
	}
	if err := a.Keys.Revoke(r.Context(), c.Owner, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) rotate(w http.ResponseWriter, r *http.Request) {
	c, ok := a.caller(w, r)
	if !ok || !a.allow(w, r, c) {
		return
	}
	k, err := a.Keys.Rotate(r.Context(), *c, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, toJSON(k.Key, k.Value))
}

// errNoToken answers a request without a Bearer token (RFC 6750 §3.1).
var errNoToken = &httpapi.Error{Status: 401, Code: "invalid_token", Description: "an access token of the client is required (Authorization: Bearer …)"}

// Refusals of a Bearer token (RFC 6750 §3.1 invalid_token).
var (
	errBadToken = &httpapi.Error{Status: 401, Code: "invalid_token",
		Description: "the access token is invalid, expired or not from this issuer, or names more than one client"}
	errRevoked = &httpapi.Error{Status: 401, Code: "invalid_token", Description: "the access token was revoked"}
	// An API key may not make keys, neither itself nor through the token
	// it was exchanged for.
	errExchanged = &httpapi.Error{Status: 401, Code: "invalid_token",
		Description: "a token exchanged for an API key cannot manage API keys; use the access token of a wallet sign-in"}
)

// caller authenticates the request's Bearer token as a wallet signed in to
// a client, or answers 401 and returns false.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (*Caller, bool) {
	c, err := a.Authenticate(r)
	if err != nil {
		a.fail(w, r, err)
		return nil, false
	}
	return c, true
}

// Authenticate checks the request's Bearer token (RFC 6750 §2.1) as a
// wallet signed in to a client: an access token verified offline, still
// active as stored, and not exchanged for a key. It is the one check of
// every surface that manages keys (/api/keys, and a wire profile's own key
// endpoints); a refusal is a 401 *httpapi.Error.
func (a *API) Authenticate(r *http.Request) (*Caller, error) {
	raw, ok := bearer.FromRequest(r)
	if !ok {
		return nil, errNoToken
	}
	claims, err := a.Verifier.VerifyClient(r.Context(), raw)
	if errors.Is(err, bearer.ErrInvalid) {
		err = errBadToken
	}
	if err == nil {
		err = a.checkIssued(r.Context(), claims)
	}
	if err != nil {
		return nil, err
	}
	return &Caller{Owner: Owner{ClientID: claims.Audience[0], Subject: claims.Subject}, Scopes: claims.Scopes()}, nil
}

// checkIssued refuses a token that an API key was exchanged for, and one
// that is no longer active as stored.
func (a *API) checkIssued(ctx context.Context, c *bearer.Claims) error {
	var extra struct {
		APIKeyID string `json:"api_key_id"`
	}
	if err := c.Decode(&extra); err != nil {
		return errBadToken
	}
	if extra.APIKeyID != "" {
		return errExchanged
	}
	t, err := a.Issued.TokenByID(ctx, c.JWTID)
	if errors.Is(err, storage.ErrNotFound) {
		return errRevoked
	}
	if err != nil {
		return err
	}
	if t.Kind != storage.KindAccess || t.ClientID != c.Audience[0] || t.Subject != c.Subject || !t.Active(a.Keys.cfg.Now()) {
		return errRevoked
	}
	return nil
}

// allow spends one key creation of the caller's budget, or answers 429.
func (a *API) allow(w http.ResponseWriter, r *http.Request, c *Caller) bool {
	ok, wait := a.AllowCreate(r, c)
	if !ok {
		httpapi.WriteTooMany(w, wait, false)
	}
	return ok
}

// AllowCreate spends one key creation (or rotation) of the caller's budget,
// which belongs to the caller's IP and, with it, the wallet and client;
// when it is spent it says how long to wait.
func (a *API) AllowCreate(r *http.Request, c *Caller) (bool, time.Duration) {
	return a.Limits.Allow(r, "api_key "+c.ClientID+" "+c.Subject)
}

// fail answers err as RFC 6749 §5.2 JSON, with the WWW-Authenticate of RFC
// 6750 §3 on a refused token or scope; an internal error is logged and
// answered with a generic server_error.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	switch {
	case e == errNoToken:
		w.Header().Set("WWW-Authenticate", `Bearer realm="signet"`)
	case e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		// RFC 6750 §3: error_description takes no double quote or backslash.
		desc := strings.NewReplacer(`"`, "'", `\`, "").Replace(e.Description)
		w.Header().Set("WWW-Authenticate", `Bearer realm="signet", error="`+e.Code+`", error_description="`+desc+`"`)
	}
	httpapi.WriteOAuth(w, r, a.Log, err, false)
}
