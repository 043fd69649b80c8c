package siwa

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
)

// agentClaims are the claims of an access token the profile reads.
type agentClaims struct {
	Issuer        string   `json:"iss"`
	Audience      audience `json:"aud"`
	Expiry        int64    `json:"exp"`
	Address       string   `json:"ethereum_address"`
	AgentID       *int64   `json:"agent_id"`
	AgentRegistry string   `json:"agent_registry"`
	AgentVerified string   `json:"agent_verified"`
}

// audience is the aud claim: one string or an array of them (RFC 7519 §4.1.3).
type audience []string

// UnmarshalJSON reads a string or an array of strings.
func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

// errBadToken is any Bearer token the profile does not accept.
var errBadToken = errors.New("siwa: not an unexpired access token of this client that names an agent")

// agentToken verifies an access token as a resource server does (RFC 9068
// §4): an RS256 JWT typed at+jwt, signed by one of the provider's published
// keys, from this issuer, for this client, unexpired; and it must name an
// agent. Like any resource server that verifies offline, it does not see a
// revocation before the token expires.
func (p *Profile) agentToken(ctx context.Context, raw, clientID string) (*agentClaims, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errBadToken
	}
	header := jws.Signatures[0].Protected
	if typ, _ := header.ExtraHeaders[jose.HeaderType].(string); !strings.EqualFold(typ, "at+jwt") {
		return nil, errBadToken
	}
	keys, err := p.cfg.Keys.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(keys, func(k zop.Key) bool { return k.ID() == header.KeyID && k.Algorithm() == jose.RS256 })
	if i < 0 {
		return nil, errBadToken
	}
	payload, err := jws.Verify(keys[i].Key())
	if err != nil {
		return nil, errBadToken
	}
	var c agentClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, errBadToken
	}
	if c.Issuer != p.cfg.Issuer || !slices.Contains(c.Audience, clientID) || p.cfg.Now().Unix() >= c.Expiry ||
		c.AgentID == nil || c.AgentRegistry == "" {
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
