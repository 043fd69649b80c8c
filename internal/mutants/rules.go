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
		Old: "case m.URI != v.cfg.URI:", New: "case false:", Package: "siwe", Test: "."},
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
	{Name: "siwe: the browser flow consumes its challenge", File: "siwe/verify.go",
		Old: "if err := v.Consume(ctx, res.Challenge); err != nil {", New: "if err := error(nil); err != nil {", Package: "op", Test: "TestConcurrentLoginVerify"},
	{Name: "storage: a challenge is consumed once", File: "storage/hot.go",
		Old: "WHERE id = $2 AND used_at = 0 AND expires_at > $1`", New: "WHERE id = $2`", Package: "storage", Test: "."},
	{Name: "storage: a code is redeemed once", File: "storage/hot.go",
		Old: "AND code_hash IS NOT NULL AND code_used_at = 0 AND code_expires_at > $1`", New: "AND code_hash IS NOT NULL`", Package: "storage", Test: "."},

	// Browser binding (SPEC "Browser binding").
	{Name: "binding: login page and its JSON endpoints", File: "op/login.go",
		Old: "if !s.boundToBrowser(r, a) {", New: "if false {", Package: "op", Test: "TestLoginLinkInAnotherBrowser"},
	{Name: "binding: the callback", File: "op/authorize.go",
		Old: "case !s.boundToBrowser(r, a):", New: "case false:", Package: "op", Test: "TestStolenCodeAttack"},
	{Name: "binding: one code per request", File: "op/store.go",
		Old:     "if errors.Is(err, storage.ErrNotFound) {\n\t\treturn oidc.ErrInvalidRequest().WithDescription(\"this sign-in was already completed; start again from the app\")",
		New:     "if false {\n\t\treturn oidc.ErrInvalidRequest().WithDescription(\"this sign-in was already completed; start again from the app\")",
		Package: "op", Test: "TestStolenCodeAttack"},

	// /authorize.
	{Name: "authorize: parameters are bounded", File: "op/authorize.go",
		Old: "problem := checkAuthorizeParams(r.Form)", New: "problem := \"\"", Package: "op", Test: "TestAuthorizeBounds"},
	{Name: "authorize: rate limited per IP", File: "op/authorize.go",
		Old: "\t\tif !s.limitPage(w, r) {\n\t\t\treturn\n\t\t}\n\t\tif err := r.ParseForm()", New: "\t\tif err := r.ParseForm()", Package: "op", Test: "TestAuthorizeBounds"},
	{Name: "authorize: Signet's redirect-URI matcher decides", File: "op/authorize.go",
		Old: "if !c.RedirectURIAllowed(redirectURI) {", New: "if !c.RedirectURIAllowed(redirectURI) && false {", Package: "op", Test: "TestAuthorizeRedirectURIIsExact"},
	{Name: "authorize: PKCE plain is refused", File: "op/store.go",
		Old: "if r.CodeChallenge != \"\" && r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {", New: "if false {", Package: "op", Test: "TestAuthorizeRejects"},
	{Name: "authorize: public clients must use PKCE", File: "op/store.go",
		Old: "if r.CodeChallenge == \"\" && c.Public {", New: "if false {", Package: "op", Test: "TestAuthorizeRejects"},
	{Name: "authorize: query response mode only", File: "op/authorize.go",
		Old: "problem == \"\" && rm != \"\" && rm != \"query\"", New: "false && rm != \"\"", Package: "op", Test: "TestAuthorizeRejects"},

	// Rate limits spend only the caller's budget.
	{Name: "limits: an address's budget is per caller", File: "op/headless.go",
		Old: "s.addrLimit.allow(caller + \" \" + common.HexToAddress(address).Hex())", New: "s.addrLimit.allow(common.HexToAddress(address).Hex())", Package: "op", Test: "TestNobodyCanLockOutALicense"},
	{Name: "limits: IPv6 callers are grouped by /64", File: "op/ratelimit.go",
		Old: "p, _ := ip.Prefix(64)", New: "p, _ := ip.Prefix(128)", Package: "op", Test: "TestCallerKeyGroupsIPv6By64"},

	// Developer licenses.
	{Name: "license: a signer signs only for the license", File: "op/headless.go",
		Old: "if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {", New: "if !cl.IsLicense() || c.ChainID != cl.LicenseChainID {", Package: "op", Test: "TestLicenseClient"},
	{Name: "license: signers only on the license's chain", File: "op/headless.go",
		Old: "if !cl.IsLicense() || c.Address.Hex() != cl.ID || c.ChainID != cl.LicenseChainID {", New: "if !cl.IsLicense() || c.Address.Hex() != cl.ID {", Package: "op", Test: "TestDelegatesOnlyForTheLicenseOnItsChain"},
	{Name: "license: challenges on the license's chain in every flow", File: "op/headless.go",
		Old: "if asked != 0 && asked != c.LicenseChainID {", New: "if false {", Package: "op", Test: "TestLicenseClient"},

	// Headless client rules.
	{Name: "headless: a confidential client authenticates", File: "op/headless.go",
		Old: "case !creds.present || clients.NormalizeID(creds.id) != c.ID || !c.CheckSecret(creds.secret):", New: "case false:", Package: "op", Test: "TestHeadlessClientAuthentication"},
	{Name: "headless: a client without the headless flows is refused", File: "op/headless.go",
		Old: "\tif c.NoHeadless {\n\t\treturn nil, errNoHeadless\n\t}\n", New: "", Package: "op", Test: "TestHeadlessClientAuthentication"},

	// Tokens.
	{Name: "tokens: a code used twice at once revokes its tokens", File: "op/store.go",
		Old: "if rerr := s.db.RevokeAuthRequestTokens(ctx, codeOf(r)); rerr != nil {", New: "if rerr := error(nil); rerr != nil {", Package: "op", Test: "TestCodeRedeemedTwiceRevokes"},
	{Name: "tokens: a client revokes only its own tokens", File: "op/store.go",
		Old: "if t.ClientID != clientID {", New: "if false {", Package: "op", Test: "TestClientsTouchOnlyTheirOwnTokens"},
	{Name: "tokens: introspection answers only the token's audience", File: "op/store.go",
		Old: "if !slices.Contains(t.Audience, clientID) && t.ClientID != clientID {", New: "if false {", Package: "op", Test: "TestClientsTouchOnlyTheirOwnTokens"},
	{Name: "tokens: access tokens are typed at+jwt", File: "op/accesstoken.go",
		Old: "WithType(\"at+jwt\")", New: "WithType(\"JWT\")", Package: "op", Test: "TestAccessTokensAreTypedATJWT"},
	{Name: "tokens: a reused refresh token revokes its family", File: "op/store.go",
		Old: "if err := s.db.RevokeFamily(ctx, t.FamilyID); err != nil {", New: "if err := error(nil); err != nil {", Package: "op", Test: "TestReusedRefreshTokenRevokesFamily"},
}
