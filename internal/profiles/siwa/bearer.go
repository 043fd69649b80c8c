package siwa

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/signet-id/signet/internal/bearer"
	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
)

// agentClaims are the claims of an access token the profile reads beside
// the registered ones.
type agentClaims struct {
	Expiry        int64  `json:"exp"`
	Address       string `json:"ethereum_address"`
	AgentID       *int64 `json:"agent_id"`
	AgentRegistry string `json:"agent_registry"`
	AgentVerified string `json:"agent_verified"`
}

// errBadToken is any Bearer token the profile does not accept.
var errBadToken = errors.New("siwa: not an unexpired access token of this client that names an agent")

// agentToken verifies an access token as a resource server does (package
// bearer: RS256, at+jwt, a published key, this issuer, this client,
// unexpired), and it must name an agent.
func (p *Profile) agentToken(ctx context.Context, raw, clientID string) (*agentClaims, error) {
	claims, err := bearer.New(p.cfg.Keys, p.cfg.Issuer, p.cfg.Now).Verify(ctx, raw, clientID)
	if errors.Is(err, bearer.ErrInvalid) {
		return nil, errBadToken
	}
	if err != nil {
		return nil, err
	}
	var c agentClaims
	if err := claims.Decode(&c); err != nil || c.AgentID == nil || c.AgentRegistry == "" {
		return nil, errBadToken
	}
	return &c, nil
}

// bearer returns the verified claims of the request's Bearer token (RFC
// 6750 §2.1), or answers 401 {error: "Unauthorized"} and returns nil.
func (p *Profile) bearer(w http.ResponseWriter, r *http.Request) *agentClaims {
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if ok {
		c, err := p.agentToken(r.Context(), strings.TrimSpace(raw), compat.Client(r.Context()).ID)
		if err == nil {
			return c
		}
		if !errors.Is(err, errBadToken) {
			httpapi.Log(p.cfg.Log, r, httpapi.From(err))
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="signet"`)
	httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
	return nil
}

// protected is GET /api/protected: who the token says signed in.
func (p *Profile) protected(w http.ResponseWriter, r *http.Request) {
	c := p.bearer(w, r)
	if c == nil {
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"message": "Hello Agent #" + strconv.FormatInt(*c.AgentID, 10) + "!", "address": c.Address, "agentId": *c.AgentID,
		"timestamp": isoTime(p.cfg.Now()),
	})
}

// agentAction is POST /api/agent-action: the action, echoed with the agent.
func (p *Profile) agentAction(w http.ResponseWriter, r *http.Request) {
	c := p.bearer(w, r)
	if c == nil {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, httpapi.MaxBody))
	if err != nil || !json.Valid(body) {
		fail(w, http.StatusBadRequest, "Request body is not JSON")
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{
		"received": json.RawMessage(body), "processedBy": "siwa-server",
		"agent":     map[string]any{"address": c.Address, "agentId": *c.AgentID},
		"timestamp": isoTime(p.cfg.Now()),
	})
}
