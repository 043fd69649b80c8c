package dob

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

// dobDocsWallet is the wallet of Dob's documentation examples.
const dobDocsWallet = "GBDM6KRXXJHKVYFJPTPW3WBDKUYVCH7NNEI67DDCP7YX4UHX2GODPHGI"

// errorOf decodes Dob's error envelope, failing unless the body is one.
func errorOf(t *testing.T, w *httptest.ResponseRecorder) problem {
	t.Helper()
	var body struct {
		Success *bool    `json:"success"`
		Error   *problem `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Success == nil || *body.Success || body.Error == nil ||
		body.Error.Code == "" || body.Error.Message == "" {
		t.Fatalf("body %q is not {\"success\": false, \"error\": {code, message}}", w.Body)
	}
	return *body.Error
}

func unlimited() *httpapi.Limits { return httpapi.NewLimits(httpapi.RateLimits{}, time.Now) }

// TestRoutes: unknown paths are 404 NOT_FOUND, known ones with another
// method 405 with Allow, before anything else is looked at.
func TestRoutes(t *testing.T) {
	p := New(Config{SignIn: compat.SignIn{Limits: unlimited()}})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/api/agent/auth/challenge/" + dobDocsWallet, 404, ""},
		{"POST", "/api/agent/auth/register", 404, ""},
		{"POST", "/api/agent/v1/auth/nonce", 404, ""},
		{"GET", "/api/agent/auth/keys/key_00000000000000000000/rotate/x", 404, ""},
		{"DELETE", "/api/agent/auth/keys/key_00000000000000000000/", 404, ""},
		{"GET", "/api/agent/auth/nonce", 405, "POST"},
		{"GET", "/api/agent/auth/verify", 405, "POST"},
		{"DELETE", "/api/agent/auth/keys", 405, "GET, POST"},
		{"GET", "/api/agent/auth/keys/key_00000000000000000000", 405, "DELETE"},
		{"GET", "/api/agent/auth/keys/key_00000000000000000000/rotate", 405, "POST"},
	} {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		e := errorOf(t, w)
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow || (tc.status == 404) != (e.Code == codeNotFound) {
			t.Errorf("%s %s: %d %v Allow %q, want %d %q", tc.method, tc.path, w.Code, e, w.Header().Get("Allow"), tc.status, tc.allow)
		}
	}
}

// TestMalformed: 400 VALIDATION_ERROR for what Dob's API does not take,
// answered before the core is asked (the profile here has none).
func TestMalformed(t *testing.T) {
	p := New(Config{SignIn: compat.SignIn{Limits: unlimited()}})
	for name, tc := range map[string]struct{ path, contentType, body string }{
		"nonce: not JSON":          {pathNonce, "application/x-www-form-urlencoded", "wallet_address=" + dobDocsWallet},
		"nonce: no wallet_address": {pathNonce, "application/json", `{"address": "` + dobDocsWallet + `"}`},
		"verify: no signature":     {pathVerify, "application/json", `{"wallet_address": "` + dobDocsWallet + `", "chain": "stellar"}`},
		"verify: unknown chain":    {pathVerify, "application/json", `{"wallet_address": "` + dobDocsWallet + `", "signature": "00", "chain": "solana"}`},
		"verify: chain mismatch":   {pathVerify, "application/json", `{"wallet_address": "` + dobDocsWallet + `", "signature": "00", "chain": "evm"}`},
		"verify: a secret seed":    {pathVerify, "application/json", `{"wallet_address": "SAKICEVQLYWGSOJS4WW7HZJWAHZVEEBS527LHK5V4MLJALYKICQCJXMW", "signature": "00"}`},
	} {
		r := httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
		r.Header.Set("Content-Type", tc.contentType)
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		if e := errorOf(t, w); w.Code != 400 || e.Code != codeValidation {
			t.Errorf("%s: %d %v, want 400 VALIDATION_ERROR", name, w.Code, e)
		}
	}
}

// TestCheckChain: chain is evm or stellar, and the wallet's, or absent.
func TestCheckChain(t *testing.T) {
	for _, tc := range []struct {
		chain   string
		stellar bool
		ok      bool
	}{
		{"", true, true}, {"", false, true}, {"stellar", true, true}, {"evm", false, true},
		{"evm", true, false}, {"stellar", false, false}, {"EVM", false, false}, {"ethereum", false, false}, {"solana", true, false},
	} {
		if got := checkChain(tc.chain, tc.stellar) == ""; got != tc.ok {
			t.Errorf("checkChain(%q, stellar %v) ok = %v, want %v", tc.chain, tc.stellar, got, tc.ok)
		}
	}
}

// TestRefuse: a refused sign-in is 401 UNAUTHORIZED with the words of the
// check that failed; a missing scope 403 INSUFFICIENT_SCOPE; Signet's own
// failures never show their text.
func TestRefuse(t *testing.T) {
	p := New(Config{})
	for _, tc := range []struct {
		err    error
		status int
		code   string
		words  string
	}{
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckUsed, Description: "challenge was already used"}, 401, codeUnauthorized, "challenge was already used"},
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckSigner, Description: "signature does not match the address"}, 401, codeUnauthorized, "signature does not match"},
		{&httpapi.Error{Status: 401, Code: "invalid_token", Description: "the access token was revoked"}, 401, codeUnauthorized, "revoked"},
		{&httpapi.Error{Status: 403, Code: "insufficient_scope", Description: "the token lacks trade"}, 403, codeScope, "lacks trade"},
		{&httpapi.Error{Status: 404, Code: "not_found", Description: "no such key"}, 404, codeNotFound, "no such key"},
		{&httpapi.Error{Status: 400, Code: "invalid_scope", Description: "not an API scope"}, 400, codeValidation, "not an API scope"},
		{&siwe.Error{Code: siwe.CodeInvalidRequest, Check: siwe.CheckSignature, Description: "signature is not hex"}, 400, codeValidation, "not hex"},
		{&siwe.Error{Code: siwe.CodeUnavailable, Description: "challenge store is unavailable", Err: errors.New("dial tcp: refused")}, 503, codeUnavailable, "Temporarily unavailable"},
		{errors.New("pq: relation does not exist"), 500, codeInternal, "unexpected"},
	} {
		w := httptest.NewRecorder()
		p.refuse(w, httptest.NewRequest("POST", pathVerify, nil), tc.err)
		e := errorOf(t, w)
		if w.Code != tc.status || e.Code != tc.code || !strings.Contains(e.Message, tc.words) || strings.Contains(w.Body.String(), "dial tcp") || strings.Contains(w.Body.String(), "pq:") {
			t.Errorf("%v: %d %v, want %d %s …%s…", tc.err, w.Code, e, tc.status, tc.code, tc.words)
		}
	}
}

// TestRateLimited: a spent budget is 429 RATE_LIMIT_EXCEEDED with Retry-After.
func TestRateLimited(t *testing.T) {
	p := New(Config{SignIn: compat.SignIn{Limits: httpapi.NewLimits(httpapi.RateLimits{PerIP: 1, Window: time.Minute}, time.Now)}})
	for i := range 2 {
		r := httptest.NewRequest("POST", pathNonce, strings.NewReader(`{}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		p.ServeHTTP(w, r)
		if e := errorOf(t, w); i == 1 && (w.Code != http.StatusTooManyRequests || e.Code != codeRateLimited || w.Header().Get("Retry-After") == "") {
			t.Fatalf("%d %v %v", w.Code, e, w.Header())
		}
	}
}
