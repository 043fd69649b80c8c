package op

import (
	"encoding/json"
	"slices"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/storage"
)

// Claim names Signet adds to tokens and userinfo.
const (
	ClaimAddress       = "ethereum_address"
	ClaimChainID       = "chain_id"
	ClaimSIWEMessage   = "siwe_message"
	ClaimSIWESignature = "siwe_signature"
	ClaimSigner        = "signer"
	// The agent of an agent sign-in (SPEC "Agents"): its token ID, its
	// registry, how its control was checked ("onchain" or "offline"), and,
	// with the agent scope, its registration file's name and services.
	ClaimAgentID       = "agent_id"
	ClaimAgentRegistry = "agent_registry"
	ClaimAgentVerified = "agent_verified"
	ClaimAgentName     = "agent_name"
	ClaimAgentServices = "agent_services"
	// ClaimAPIKeyID names the API key an access token was exchanged for
	// (SPEC "API keys").
	ClaimAPIKeyID = "api_key_id"
)

// supportedClaims are the claims discovery advertises.
var supportedClaims = []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "amr", "azp",
	"preferred_username", ClaimAddress, ClaimChainID, ClaimSIWEMessage, ClaimSIWESignature, ClaimSigner,
	ClaimAgentID, ClaimAgentRegistry, ClaimAgentVerified, ClaimAgentName, ClaimAgentServices, ClaimAPIKeyID}

// loginClaims are the claims every token and userinfo answer carries, plus
// those the scopes unlock.
func loginClaims(l *storage.Login, scopes []string) map[string]any {
	c := map[string]any{
		ClaimAddress: l.Address,
		ClaimChainID: l.ChainID,
	}
	if l.Signer != "" && l.Signer != l.Address {
		c[ClaimSigner] = l.Signer
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		c["preferred_username"] = l.Address
		if l.Name != "" {
			c["preferred_username"] = l.Name
		}
	}
	if slices.Contains(scopes, clients.ScopeSIWE) {
		c[ClaimSIWEMessage] = l.Message
		c[ClaimSIWESignature] = l.Signature
	}
	agentClaims(c, l, scopes)
	return c
}

// agentClaims adds the agent of an agent sign-in; sub stays the signer's
// account.
func agentClaims(c map[string]any, l *storage.Login, scopes []string) {
	if l.AgentRegistry == "" {
		return
	}
	c[ClaimAgentID] = l.AgentID
	c[ClaimAgentRegistry] = l.AgentRegistry
	c[ClaimAgentVerified] = l.AgentVerified
	if !slices.Contains(scopes, clients.ScopeAgent) {
		return
	}
	if l.AgentName != "" {
		c[ClaimAgentName] = l.AgentName
	}
	if l.AgentServices != "" {
		c[ClaimAgentServices] = json.RawMessage(l.AgentServices)
	}
}

// setUserinfo copies a login's claims into a userinfo answer.
func setUserinfo(u *oidc.UserInfo, l *storage.Login, scopes []string) {
	u.Subject = l.Subject
	for k, v := range loginClaims(l, scopes) {
		if k == "preferred_username" {
			u.PreferredUsername = v.(string)
			continue
		}
		u.AppendClaims(k, v)
	}
}
