package dob

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
)

// maxLabel is Dob's bound on a key's label (agent-api/api-keys: "max 64
// characters"), below apikeys.MaxLabel.
const maxLabel = 64

// keyData is a key as Dob's answers show it; Key only when just made.
type keyData struct {
	ID string `json:"id"`
	// KeyID is the same ID under the name Dob's documentation gives it.
	KeyID       string   `json:"key_id"`
	Key         string   `json:"key,omitempty"`
	Label       string   `json:"label"`
	Scopes      []string `json:"scopes"`
	CreatedAt   string   `json:"created_at"`
	RotatedFrom string   `json:"rotated_from,omitempty"`
}

func toData(k apikeys.Key, value string) keyData {
	return keyData{ID: k.ID, KeyID: k.ID, Key: value, Label: k.Label, Scopes: k.Scopes, CreatedAt: timestamp(k.CreatedAt), RotatedFrom: k.RotatedFrom}
}

// errOtherClient refuses a token of another client at this client's base URL.
var errOtherClient = &httpapi.Error{Status: http.StatusUnauthorized, Code: "invalid_token", Description: "the token is not one of this client's"}

// caller authenticates the Bearer token as a wallet signed in to this
// client (apikeys.API.Authenticate), or answers 401 and returns nil.
func (p *Profile) caller(w http.ResponseWriter, r *http.Request) *apikeys.Caller {
	c, err := p.cfg.Keys.Authenticate(r)
	if err == nil && c.ClientID != compat.Client(r.Context()).ID {
		err = errOtherClient
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="signet"`)
		p.refuse(w, r, err)
		return nil
	}
	return c
}

// allowKey spends one key creation of the caller's budget, or answers 429.
func (p *Profile) allowKey(w http.ResponseWriter, r *http.Request, c *apikeys.Caller) bool {
	ok, wait := p.cfg.Keys.AllowCreate(r, c)
	if !ok {
		tooMany(w, wait)
	}
	return ok
}

// createKey is POST /api/agent/auth/keys {label, scopes}: both required.
func (p *Profile) createKey(w http.ResponseWriter, r *http.Request) {
	c := p.caller(w, r)
	if c == nil || !p.allowKey(w, r, c) {
		return
	}
	var req struct {
		Label  string   `json:"label"`
		Scopes []string `json:"scopes"`
	}
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	label := strings.TrimSpace(req.Label)
	switch {
	case label == "" || len(req.Scopes) == 0:
		fail(w, http.StatusBadRequest, codeValidation, "label and scopes are required")
		return
	case utf8.RuneCountInString(label) > maxLabel:
		fail(w, http.StatusBadRequest, codeValidation, "label must be at most 64 characters")
		return
	}
	k, err := p.cfg.Keys.Keys.Create(r.Context(), *c, label, req.Scopes)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	ok(w, http.StatusCreated, toData(k.Key, k.Value))
}

// listKeys is GET /api/agent/auth/keys: the wallet's active keys, never a key.
func (p *Profile) listKeys(w http.ResponseWriter, r *http.Request) {
	c := p.caller(w, r)
	if c == nil {
		return
	}
	keys, err := p.cfg.Keys.Keys.List(r.Context(), c.Owner)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	out := make([]keyData, len(keys))
	for i, k := range keys {
		out[i] = toData(k, "")
	}
	ok(w, http.StatusOK, out)
}

// revokeKey is DELETE /api/agent/auth/keys/{id}: the key stops working at
// once, on every replica.
func (p *Profile) revokeKey(w http.ResponseWriter, r *http.Request, id string) {
	c := p.caller(w, r)
	if c == nil {
		return
	}
	if err := p.cfg.Keys.Keys.Revoke(r.Context(), c.Owner, id); err != nil {
		p.refuse(w, r, err)
		return
	}
	ok(w, http.StatusOK, map[string]any{"id": id, "key_id": id, "revoked": true, "revoked_at": timestamp(p.cfg.Now())})
}

// rotateKey is POST /api/agent/auth/keys/{id}/rotate: a new key with the
// old one's label and scopes, shown once; the old one stops working.
func (p *Profile) rotateKey(w http.ResponseWriter, r *http.Request, id string) {
	c := p.caller(w, r)
	if c == nil || !p.allowKey(w, r, c) {
		return
	}
	k, err := p.cfg.Keys.Keys.Rotate(r.Context(), *c, id)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	ok(w, http.StatusCreated, toData(k.Key, k.Value))
}
