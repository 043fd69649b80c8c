package reppo

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

// docsAddress is the address of Reppo's documentation examples.
const docsAddress = "0x742d35Cc6634C0532925a3b844Bc9e7595f2bD18"

// serve answers one request with a profile that has no core: every case
// here must be answered before the core is called.
func serve(t *testing.T, p *Profile, method, target, contentType, body string) (*httptest.ResponseRecorder, map[string]string) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	p.ServeHTTP(w, r)
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || len(got) != 1 || got["error"] == "" {
		t.Fatalf("%s %s: body %q is not {\"error\": \"…\"}", method, target, w.Body)
	}
	return w, got
}

func unlimited() *httpapi.Limits { return httpapi.NewLimits(httpapi.RateLimits{}, time.Now) }

// TestRoutes: unknown paths are 404 and known ones with another method 405
// with Allow, in Reppo's envelope.
func TestRoutes(t *testing.T) {
	p := New(Config{Limits: unlimited()})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"POST", "/auth/challenge", http.StatusNotFound, ""},
		{"POST", "/chat", http.StatusNotFound, ""},
		{"GET", "/auth/nonce", http.StatusMethodNotAllowed, "POST"},
		{"PUT", "/auth/verify", http.StatusMethodNotAllowed, "POST"},
	} {
		w, _ := serve(t, p, tc.method, tc.path, "", "")
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
		}
	}
}

// TestIsAddress is Reppo's pattern ^0x[a-fA-F0-9]{40}$.
func TestIsAddress(t *testing.T) {
	for s, want := range map[string]bool{
		docsAddress:                                  true,
		strings.ToLower(docsAddress):                 true,
		"0x" + strings.ToUpper(docsAddress[2:]):      true,
		docsAddress[2:]:                              false,
		"0X" + docsAddress[2:]:                       false,
		docsAddress + "0":                            false,
		docsAddress[:41]:                             false,
		"0x742d35Cc6634C0532925a3b844Bc9e7595f2bDzz": false,
		"": false,
	} {
		if isAddress(s) != want {
			t.Errorf("isAddress(%q) = %v", s, !want)
		}
	}
}

// TestMalformed: 400 for input that is not what Reppo takes, before the
// core is asked.
func TestMalformed(t *testing.T) {
	p := New(Config{Limits: unlimited()})
	for _, tc := range []struct {
		name, path, contentType, body string
	}{
		{"nonce: empty body", "/auth/nonce", "application/json", ""},
		{"nonce: no walletAddress", "/auth/nonce", "application/json", `{}`},
		{"nonce: address, not walletAddress", "/auth/nonce", "application/json", `{"address":"` + docsAddress + `"}`},
		{"nonce: no 0x", "/auth/nonce", "application/json", `{"walletAddress":"` + docsAddress[2:] + `"}`},
		{"nonce: a number", "/auth/nonce", "application/json", `{"walletAddress":42}`},
		{"nonce: a form", "/auth/nonce", "application/x-www-form-urlencoded", "walletAddress=" + docsAddress},
		{"verify: no nonce", "/auth/verify", "application/json", `{"walletAddress":"` + docsAddress + `","signature":"0x00"}`},
		{"verify: no signature", "/auth/verify", "application/json", `{"walletAddress":"` + docsAddress + `","nonce":"n"}`},
		{"verify: bad address", "/auth/verify", "application/json", `{"walletAddress":"0x1234","signature":"0x00","nonce":"n"}`},
		{"verify: not JSON", "/auth/verify", "application/json", `walletAddress=` + docsAddress},
	} {
		if w, body := serve(t, p, "POST", tc.path, tc.contentType, tc.body); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d %v, want 400", tc.name, w.Code, body)
		}
	}
}

// TestRateLimited: a spent budget is 429 with Retry-After, in the envelope.
func TestRateLimited(t *testing.T) {
	p := New(Config{Limits: httpapi.NewLimits(httpapi.RateLimits{PerIP: 1, Window: time.Minute}, time.Now)})
	serve(t, p, "POST", "/auth/nonce", "application/json", `{}`)
	w, body := serve(t, p, "POST", "/auth/verify", "application/json", "{}")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || body["error"] != "Too many requests" {
		t.Fatalf("%d %v %v", w.Code, w.Header(), body)
	}
}

// TestRefuse: every refused nonce or signature is Reppo's 401
// {"error": "Unauthorized"}; Signet's own failures never show their text.
func TestRefuse(t *testing.T) {
	p := New(Config{})
	for _, tc := range []struct {
		err    error
		status int
		words  string
	}{
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckUsed, Description: "challenge was already used"}, 401, "Unauthorized"},
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckExpired, Description: "challenge expired"}, 401, "Unauthorized"},
		{&httpapi.Error{Status: 400, Code: "invalid_grant", Description: "unknown or expired challenge (state)", Check: siwe.CheckNonce}, 401, "Unauthorized"},
		{&httpapi.Error{Status: 401, Code: "invalid_client", Description: "unknown client_id"}, 401, "Unauthorized"},
		{&siwe.Error{Code: siwe.CodeInvalidRequest, Check: siwe.CheckSignature, Description: "signature is not hex"}, 400, "signature is not hex"},
		{&siwe.Error{Code: siwe.CodeUnavailable, Description: "signature could not be checked", Err: errors.New("rpc: 502")}, 503, "Temporarily unavailable: signature could not be checked"},
		{errors.New("pq: relation does not exist"), 500, "Internal server error"},
	} {
		w := httptest.NewRecorder()
		p.refuse(w, httptest.NewRequest("POST", "/auth/verify", nil), tc.err)
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != tc.status || body["error"] != tc.words || len(body) != 1 {
			t.Errorf("%v: %d %v, want %d %q", tc.err, w.Code, body, tc.status, tc.words)
		}
	}
}
