package op

import (
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
)

// supportedClaims are the claims discovery advertises.
var supportedClaims = []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "at_hash", "c_hash", "amr", "azp",
	"preferred_username", ClaimAddress, ClaimChainID, ClaimSIWEMessage, ClaimSIWESignature, ClaimSigner}

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
	return c
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
