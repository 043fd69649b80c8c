package main

// rule is one security rule: the code that enforces it (Old, exactly as
// written in File), what it becomes without the rule (New), and the test
// that must then fail. docs/security.md lists the same rules in words.
type rule struct {
	Name     string
	File     string
	Old, New string
	Package  string
	Test     string
}

var rules = []rule{
	// SIWE rules (SPEC "SIWE rules").
	{Name: "siwe: message domain is ours", File: "siwe/verify.go",
		Old: "case m.Domain != v.cfg.Domain:", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: message URI is ours", File: "siwe/verify.go",
		Old: "case m.URI != uri:", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: chain ID is allowed", File: "siwe/verify.go",
		Old: "case !slices.Contains(v.cfg.ChainIDs, m.ChainID):", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: chain ID is the challenge's", File: "siwe/verify.go",
		Old: "case m.ChainID != c.ChainID:", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: address is the challenge's", File: "siwe/verify.go",
		Old: "case m.Address != c.Address:", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: challenge expires", File: "siwe/verify.go",
		Old: "case !now.Before(c.ExpiresAt):", New: "case false:", Package: "siwe", Test: "."},
	{Name: "siwe: a verified challenge is consumed", File: "siwe/verify.go",
		Old: "if err := v.Consume(ctx, res.Challenge); err != nil {", New: "if err := error(nil); err != nil {", Package: "siwe", Test: "."},
	{Name: "storage: completing a browser sign-in consumes its challenge", File: "storage/authrequests.go",
		Old: "if err := db.consumeChallengeOn(ctx, p, challengeID, now); err != nil {", New: "if err := error(nil); err != nil {", Package: "op", Test: "TestConcurrentLoginVerify"},
	{Name: "storage: a used challenge completes no browser sign-in", File: "storage/authrequests.go",
		Old: "if err := db.consumeChallengeOn(ctx, p, challengeID, now); err != nil {", New: "if err := error(nil); err != nil {", Package: "storage", Test: "."},
	{Name: "storage: a challenge is consumed once", File: "storage/hot.go",
		Old: "WHERE id = $2 AND used_at = 0 AND expires_at > $1`", New: "WHERE id = $2`", Package: "storage", Test: "."},
	{Name: "storage: a code is redeemed once", File: "storage/hot.go",
		Old: "AND code_hash IS NOT NULL AND code_used_at = 0 AND code_expires_at > $1`", New: "AND code_hash IS NOT NULL`", Package: "storage", Test: "."},

	// Agents (SPEC "Agents"; the siwa wire profile).
	{Name: "agents: the registry is one the client accepts", File: "internal/agents/agents.go",
		Old: "if !cl.AgentRegistryAllowed(a.Registry) {", New: "if false {", Package: "op", Test: "TestAgentOwnershipRules"},
	{Name: "agents: the signer owns the agent", File: "internal/agents/agents.go",
		Old: "case owner == account:", New: "case owner == account || true:", Package: "op", Test: "TestAgentOwnershipRules"},
	{Name: "agents: or is its agent wallet", File: "internal/agents/agents.go",
		Old: "case wallet == account:", New: "case wallet == account || true:", Package: "op", Test: "TestAgentOwnershipRules"},
	{Name: "agents: offline only where the client accepts it", File: "internal/agents/agents.go",
		Old: "if cl.AgentOffline {", New: "if true {", Package: "op", Test: "TestAgentWithoutRPC"},
	{Name: "agents: a SIWA message's agent is checked", File: "internal/signin/agent.go",
		Old: "if res.Agent == nil {", New: "if true {", Package: "op", Test: "TestAgentOwnershipRules"},
	{Name: "agents: registration files not from the operator's network", File: "internal/agents/dial.go",
		Old: "if err != nil || !public(ip) {", New: "if err != nil || (!public(ip) && false) {", Package: "internal/agents", Test: "TestFilesRefuseTheOperatorsNetwork"},
	{Name: "agents: the siwa profile takes only a token of its client", File: "internal/bearer/bearer.go",
		Old: "if !slices.Contains(c.Audience, audience) {", New: "if false {", Package: "op", Test: "TestSIWAProfileRefuses"},
	{Name: "agents: the siwa profile takes only SIWA messages", File: "internal/profiles/siwa/siwa.go",
		Old: "URI: p.verifyURI(cl), Agent: true}", New: "URI: p.verifyURI(cl)}", Package: "op", Test: "TestSIWAProfileRefuses"},

	// Browser binding (SPEC "Browser binding").
	{Name: "binding: login page and its JSON endpoints", File: "internal/login/login.go",
		Old: "case !p.Binding.Matches(r, a.BindingHash):", New: "case false:", Package: "op", Test: "TestLoginLinkInAnotherBrowser"},
	{Name: "binding: the callback", File: "internal/authorize/guard.go",
		Old: "case !g.Binding.Matches(r, a.BindingHash):", New: "case false:", Package: "op", Test: "TestStolenCodeAttack"},
	{Name: "binding: one code per request", File: "op/store.go",
		Old:     "if errors.Is(err, storage.ErrNotFound) {\n\t\treturn oidc.ErrInvalidRequest().WithDescription(\"this sign-in was already completed; start again from the app\")",
		New:     "if false {\n\t\treturn oidc.ErrInvalidRequest().WithDescription(\"this sign-in was already completed; start again from the app\")",
		Package: "op", Test: "TestStolenCodeAttack"},

	// /authorize.
	{Name: "authorize: parameters are bounded", File: "internal/authorize/guard.go",
		Old: "problem := checkParams(r.Form)", New: "problem := \"\"", Package: "op", Test: "TestAuthorizeBounds"},
	{Name: "authorize: rate limited per IP", File: "internal/authorize/guard.go",
		Old: "\t\tif !g.allow(w, r) {\n\t\t\treturn\n\t\t}\n\t\tif err := r.ParseForm()", New: "\t\tif err := r.ParseForm()", Package: "op", Test: "TestAuthorizeBounds"},
	{Name: "authorize: Signet's redirect-URI matcher decides", File: "internal/authorize/guard.go",
		Old: "if !c.RedirectURIAllowed(redirectURI) {", New: "if !c.RedirectURIAllowed(redirectURI) && false {", Package: "op", Test: "TestAuthorizeRedirectURIIsExact"},
	{Name: "authorize: PKCE plain is refused", File: "op/store.go",
		Old: "if r.CodeChallenge != \"\" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {", New: "if false {", Package: "op", Test: "TestAuthorizeRejects"},
	{Name: "authorize: public clients must use PKCE", File: "op/store.go",
		Old: "if r.CodeChallenge == \"\" && c.Public {", New: "if false {", Package: "op", Test: "TestAuthorizeRejects"},
	{Name: "authorize: query response mode only", File: "internal/authorize/guard.go",
		Old: "problem == \"\" && rm != \"\" && rm != \"query\"", New: "false && rm != \"\"", Package: "op", Test: "TestAuthorizeRejects"},

	// Rate limits spend only the caller's budget.
	{Name: "limits: an address's budget is per caller", File: "internal/httpapi/limits.go",
		Old: "l.address.allow(caller + \" \" + address)", New: "l.address.allow(address)", Package: "op", Test: "TestNobodyCanLockOutALicense"},
	{Name: "limits: IPv6 callers are grouped by /64", File: "internal/httpapi/limits.go",
		Old: "p, _ := ip.Prefix(64)", New: "p, _ := ip.Prefix(128)", Package: "internal/httpapi", Test: "TestCallerKeyGroupsIPv6By64"},

	// Developer licenses.
	{Name: "license: a signer signs only for the license", File: "internal/signin/redeem.go",
		Old: "if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {", New: "if !cl.IsLicense() || c.ChainID != cl.LicenseChainID {", Package: "op", Test: "TestLicenseClient"},
	{Name: "license: signers only on the license's chain", File: "internal/signin/redeem.go",
		Old: "if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {", New: "if !cl.IsLicense() || c.Address.Hex() != cl.ID {", Package: "internal/signin", Test: "TestDelegatesOnlyForTheLicenseOnItsChain"},
	{Name: "license: challenges on the license's chain in every flow", File: "internal/signin/challenge.go",
		Old: "if asked != 0 && asked != cl.LicenseChainID {", New: "if false {", Package: "op", Test: "TestLicenseClient"},

	// Headless client rules.
	{Name: "headless: a confidential client authenticates", File: "internal/signin/redeem.go",
		Old: "case !creds.Present || clients.NormalizeID(creds.ID) != cl.ID || !cl.CheckSecret(creds.Secret):", New: "case false:", Package: "op", Test: "TestHeadlessClientAuthentication"},
	{Name: "headless: a client without the headless flows is refused", File: "internal/signin/challenge.go",
		Old: "if !browser && cl.NoHeadless {", New: "if false {", Package: "op", Test: "TestHeadlessClientAuthentication"},

	// Tokens.
	{Name: "tokens: a code used twice at once revokes its tokens", File: "op/tokenstore.go",
		Old: "if rerr := s.db.RevokeAuthRequestTokens(ctx, codeOf(r)); rerr != nil {", New: "if rerr := error(nil); rerr != nil {", Package: "op", Test: "TestCodeRedeemedTwiceRevokes"},
	{Name: "tokens: a client revokes only its own tokens", File: "op/tokenstore.go",
		Old: "if t.ClientID != clientID {", New: "if false {", Package: "op", Test: "TestClientsTouchOnlyTheirOwnTokens"},
	{Name: "tokens: introspection answers only the token's audience", File: "op/tokenstore.go",
		Old: "if !slices.Contains(t.Audience, clientID) && t.ClientID != clientID {", New: "if false && !slices.Contains(t.Audience, clientID) {", Package: "op", Test: "TestClientsTouchOnlyTheirOwnTokens"},
	{Name: "tokens: access tokens are typed at+jwt", File: "op/accesstoken.go",
		Old: "WithType(\"at+jwt\")", New: "WithType(\"JWT\")", Package: "op", Test: "TestAccessTokensAreTypedATJWT"},
	{Name: "tokens: a reused refresh token revokes its family", File: "op/tokenstore.go",
		Old: "if err := s.db.RevokeFamily(ctx, t.FamilyID); err != nil {", New: "if err := error(nil); err != nil {", Package: "op", Test: "TestReusedRefreshTokenRevokesFamily"},

	// Single sign-on.
	{Name: "sessions: prompt=login asks for a signature", File: "op/sessions.go",
		Old: "|| slices.Contains(prompt, oidc.PromptLogin) {", New: "|| false && slices.Contains(prompt, oidc.PromptLogin) {", Package: "op", Test: "TestSingleSignOn"},
	{Name: "sessions: max_age asks for a signature", File: "op/sessions.go",
		Old: "if maxAge != nil && s.now().Sub(sess.Login.AuthTime) > time.Duration(*maxAge)*time.Second {", New: "if false && maxAge != nil && s.now().Sub(sess.Login.AuthTime) > time.Duration(*maxAge)*time.Second {", Package: "op", Test: "TestSingleSignOn"},
	{Name: "sessions: end_session ends the session", File: "op/sessions.go",
		Old: "if err := s.db.EndSession(r.Context(), binding.Hash(v)); err != nil {", New: "if err := error(nil); err != nil && binding.Hash(v) == \"\" {", Package: "op", Test: "TestSingleSignOn"},
	{Name: "sessions: only the session's browser continues", File: "internal/login/api.go",
		Old: "\ta, err := p.pending(r, req.AuthRequestID)\n\tif err != nil {\n\t\tp.fail(w, r, err)\n\t\treturn\n\t}\n\tif p.Sessions == nil {", New: "\ta, _ := p.Requests.AuthRequestByID(r.Context(), req.AuthRequestID)\n\tif p.Sessions == nil {", Package: "op", Test: "TestSingleSignOn"},

	// API scopes and API keys (SPEC "API keys").
	{Name: "scopes: API scope names are checked", File: "clients/validate.go",
		Old: "case IsAPIScope(s):", New: "case true:", Package: "clients", Test: "TestAddValidation"},
	{Name: "scopes: tokens carry only the client's scopes", File: "internal/signin/challenge.go",
		Old: "if sc != oidc.ScopeOpenID && cl.ScopeAllowed(sc) && !slices.Contains(out, sc) {", New: "if sc != oidc.ScopeOpenID && !slices.Contains(out, sc) {", Package: "op", Test: "TestAPIScopesInTokens"},
	{Name: "apikeys: only the SHA-256 of a key is stored", File: "internal/apikeys/keys.go",
		Old: "Scopes: scopes, Hash: hash(value),", New: "Scopes: scopes, Hash: value,", Package: "internal/apikeys", Test: "TestOnlyTheHashIsStored"},
	{Name: "apikeys: a key gets only its client's API scopes", File: "internal/apikeys/keys.go",
		Old: "case !clients.IsAPIScope(s) || !cl.ScopeAllowed(s):", New: "case false:", Package: "op", Test: "TestAPIKeyScopes"},
	{Name: "apikeys: a key gets only scopes the wallet's token carries", File: "internal/apikeys/keys.go",
		Old: "case !slices.Contains(held, s):", New: "case false:", Package: "op", Test: "TestAPIKeyScopes"},
	{Name: "apikeys: a key's scopes are cut to its client's current ones", File: "internal/apikeys/keys.go",
		Old: "if cl.ScopeAllowed(s) {", New: "if true {", Package: "op", Test: "TestAPIKeyScopes"},
	{Name: "apikeys: an exchange narrows a key's scopes, never widens them", File: "internal/apikeys/keys.go",
		Old: "if !slices.Contains(a.Scopes, s) {", New: "if false {", Package: "op", Test: "TestAPIKeyScopes"},
	{Name: "apikeys: a key is active for its own client only", File: "internal/apikeys/keys.go",
		Old: "if !row.Active() || row.ClientID != clients.NormalizeID(clientID) {", New: "if !row.Active() {", Package: "op", Test: "TestAPIKeyClientIsolation"},
	{Name: "apikeys: a revoked or rotated key is inactive at once on every replica", File: "internal/apikeys/keys.go",
		Old: "if !row.Active() || row.ClientID != clients.NormalizeID(clientID) {", New: "if row.ClientID != clients.NormalizeID(clientID) {", Package: "op", Test: "TestAPIKeyRevocationOnReplicas"},
	{Name: "apikeys: a removed client's keys do not pass to its successor", File: "internal/apikeys/keys.go",
		Old: "return r.ClientID == cl.ID && !r.CreatedAt.Before(cl.CreatedAt)", New: "return r.ClientID == cl.ID", Package: "internal/apikeys", Test: "TestCheck"},
	{Name: "apikeys: a wallet revokes only its own keys", File: "storage/apikeys.go",
		Old: "Where(\"id = ? AND client_id = ? AND subject = ? AND revoked_at = 0\", id, clientID, subject)", New: "Where(\"id = ? AND client_id = ? AND (subject = ? OR 1 = 1) AND revoked_at = 0\", id, clientID, subject)", Package: "op", Test: "TestAPIKeyWalletIsolation"},
	{Name: "apikeys: a wallet lists and rotates only its own keys", File: "storage/apikeys.go",
		Old: "Where(\"client_id = ? AND subject = ? AND revoked_at = 0\", clientID, subject).\n\t\tOrder", New: "Where(\"client_id = ? AND (subject = ? OR 1 = 1) AND revoked_at = 0\", clientID, subject).\n\t\tOrder", Package: "op", Test: "TestAPIKeyWalletIsolation"},
	{Name: "apikeys: tokens exchanged for a key are revoked with it", File: "storage/apikeys.go",
		Old: "return tx.Model(&tokenRow{}).Where(\"family_id = ? AND family_id <> '' AND revoked_at = 0\", id).Update(\"revoked_at\", now).Error", New: "return nil", Package: "op", Test: "TestAPIKeyLifecycle"},
	{Name: "apikeys: a key is rotated or revoked once", File: "storage/apikeys.go",
		Old: "if res.RowsAffected != 1 {\n\t\treturn ErrNotFound", New: "if res.RowsAffected < 0 {\n\t\treturn ErrNotFound", Package: "storage", Test: "TestAPIKeys"},
	{Name: "apikeys: creations on several replicas are counted one at a time", File: "storage/apikeys.go",
		Old: "if err := tx.Exec(\"SELECT pg_advisory_xact_lock(hashtext(?))\", apiKeyLock+k.ClientID+\" \"+k.Subject).Error; err != nil {", New: "if err := error(nil); err != nil {", Package: "storage", Test: "TestAPIKeys"},
	{Name: "apikeys: a wallet keeps at most 100 active keys per client", File: "storage/apikeys.go",
		Old: "if active >= int64(maxActive) {", New: "if false {", Package: "internal/apikeys", Test: "TestCreateRules"},
	{Name: "apikeys: introspection of a key needs the client's secret", File: "op/apikeys.go",
		Old: "if !creds.Present || !cl.CheckSecret(creds.Secret) {", New: "if false {", Package: "op", Test: "TestAPIKeyClientIsolation"},
	{Name: "apikeys: an exchanged token lives at most 15 minutes", File: "op/apikeys.go",
		Old: "ttl = min(ttl, exchangeTTL)", New: "ttl = max(ttl, exchangeTTL)", Package: "op", Test: "TestAPIKeyLifecycle"},
	{Name: "apikeys: keys make no keys", File: "internal/apikeys/http.go",
		Old: "if extra.APIKeyID != \"\" {", New: "if false {", Package: "op", Test: "TestAPIKeyBearerRules"},
	{Name: "apikeys: a revoked access token manages no keys", File: "internal/apikeys/http.go",
		Old: " || !t.Active(a.Keys.cfg.Now()) {", New: " {", Package: "op", Test: "TestAPIKeyBearerRules"},
	{Name: "apikeys: making keys is rate limited", File: "internal/apikeys/http.go",
		Old: "if !ok || !a.allow(w, r, c) {\n\t\treturn\n\t}\n\tvar req struct {", New: "if !ok {\n\t\treturn\n\t}\n\tvar req struct {", Package: "op", Test: "TestAPIKeyBearerRules"},
	{Name: "apikeys: /api/keys takes a token of one client", File: "internal/bearer/bearer.go",
		Old: "if len(c.Audience) != 1 || c.Audience[0] == \"\" || (c.ClientID != \"\" && c.ClientID != c.Audience[0]) {", New: "if false {", Package: "internal/bearer", Test: "TestVerifyClient"},
}
