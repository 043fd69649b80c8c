// Package claims turns a login into the claims of Signet's tokens, userinfo
// and introspection answers (SPEC "Tokens and claims"): the account of
// every kind (account_address), an Ethereum account's address and chain,
// the signer of a developer license, and what the scopes unlock (the ENS
// name, the signed SIWE proof, the agent's registration).
package claims

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// Claim names Signet adds to tokens and userinfo.
const (
	// ClaimAccountAddress is the address of every kind of account, as its
	// chain writes it (EIP-55, or a Stellar "G…"): CAIP-10's account_address,
	// the last part of sub (SPEC "Non-EVM accounts").
	ClaimAccountAddress = "account_address"
	// ClaimAddress and ClaimChainID are an Ethereum account's EIP-55
	// address and EIP-155 chain; a Stellar account has neither.
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

// Supported are the claims discovery advertises.
var Supported = []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "amr", "azp",
	"preferred_username", ClaimAccountAddress, ClaimAddress, ClaimChainID, ClaimSIWEMessage, ClaimSIWESignature, ClaimSigner,
	ClaimAgentID, ClaimAgentRegistry, ClaimAgentVerified, ClaimAgentName, ClaimAgentServices, ClaimAPIKeyID}

// Of returns the claims every token and userinfo answer for l carries,
// plus those the scopes unlock.
func Of(l *storage.Login, scopes []string) map[string]any {
	address := siwe.AccountAddress(l.Subject)
	c := map[string]any{ClaimAccountAddress: address}
	if isEIP155(l.Subject) {
		c[ClaimAddress] = l.Address
		c[ClaimChainID] = l.ChainID
	}
	if l.Signer != "" && l.Signer != l.Address {
		c[ClaimSigner] = l.Signer
	}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		c["preferred_username"] = address
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

// isEIP155 reports whether a CAIP-10 account ID is an Ethereum account's
// (CAIP-2 namespace eip155), which has an Ethereum address and a chain ID.
func isEIP155(subject string) bool { return strings.HasPrefix(subject, "eip155:") }

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

// SetUserinfo copies a login's claims into a userinfo answer.
func SetUserinfo(u *oidc.UserInfo, l *storage.Login, scopes []string) {
	u.Subject = l.Subject
	for k, v := range Of(l, scopes) {
		if k == "preferred_username" {
			u.PreferredUsername = v.(string)
			continue
		}
		u.AppendClaims(k, v)
	}
}
