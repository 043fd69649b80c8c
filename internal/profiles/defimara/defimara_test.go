package defimara

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/siwe"
)

const account = "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"

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
// with Allow, in the profile's envelope.
func TestRoutes(t *testing.T) {
	p := New(Config{Limits: unlimited()})
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/auth/nonce", http.StatusNotFound, ""},
		{"GET", "/", http.StatusNotFound, ""},
		{"POST", "/auth/challenge", http.StatusMethodNotAllowed, "GET"},
		{"GET", "/auth/verify", http.StatusMethodNotAllowed, "POST"},
	} {
		w, _ := serve(t, p, tc.method, tc.path, "", "")
		if w.Code != tc.status || w.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tc.method, tc.path, w.Code, w.Header().Get("Allow"), tc.status, tc.allow)
		}
	}
}

func TestMessageAddress(t *testing.T) {
	msg := "id.example wants you to sign in with your Ethereum account:\n" + account + "\n\nSign in.\n"
	if got, ok := messageAddress(msg); !ok || got != common.HexToAddress(account) {
		t.Fatalf("messageAddress = %v, %v", got, ok)
	}
	for _, bad := range []string{
		"", account, "x\n" + account, // no line after the address
		"x\n" + strings.TrimPrefix(account, "0x") + "\n",
		"x\n" + account + "\r\n", "x\n " + account + "\n",
		account + "\nx\n", // the address on the first line
	} {
		if got, ok := messageAddress(bad); ok {
			t.Errorf("messageAddress(%q) = %v, want none", bad, got)
		}
	}
}

// TestMalformed: 400 for input that is not what DeFiMara takes, and 401
// for a challenge text that names no account or another one, all before
// the core is asked.
func TestMalformed(t *testing.T) {
	p := New(Config{Limits: unlimited()})
	other := "0x0000000000000000000000000000000000000bad"
	challenge := "id.example wants you to sign in with your Ethereum account:\n" + account + "\n\nSign in.\n"
	verify := func(address, challenge, signature string) string {
		b, _ := json.Marshal(map[string]string{"address": address, "challenge": challenge, "signature": signature})
		return string(b)
	}
	for _, tc := range []struct {
		name, method, target, contentType, body string
		status                                  int
	}{
		{"no address", "GET", "/auth/challenge", "", "", 400},
		{"empty address", "GET", "/auth/challenge?address=", "", "", 400},
		{"short address", "GET", "/auth/challenge?address=0x1234", "", "", 400},
		{"not JSON", "POST", "/auth/verify", "application/json", "address=" + account, 400},
		{"a form", "POST", "/auth/verify", "application/x-www-form-urlencoded", verify(account, challenge, "00"), 400},
		{"a field of another type", "POST", "/auth/verify", "application/json", `{"address": 1, "challenge": "x", "signature": "00"}`, 400},
		{"no signature", "POST", "/auth/verify", "application/json", verify(account, challenge, ""), 400},
		{"no challenge", "POST", "/auth/verify", "application/json", verify(account, "", "00"), 400},
		{"bad address", "POST", "/auth/verify", "application/json", verify("0xnothex", challenge, "00"), 400},
		{"another account's challenge", "POST", "/auth/verify", "application/json", verify(other, challenge, "00"), 401},
		{"no EIP-4361 text", "POST", "/auth/verify", "application/json", verify(account, "sign me", "00"), 401},
	} {
		if w, body := serve(t, p, tc.method, tc.target, tc.contentType, tc.body); w.Code != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, w.Code, body, tc.status)
		}
	}
}

// TestRateLimited: a spent budget is 429 with Retry-After, in the envelope.
func TestRateLimited(t *testing.T) {
	p := New(Config{Limits: httpapi.NewLimits(httpapi.RateLimits{PerIP: 1, Window: time.Minute}, time.Now)})
	serve(t, p, "GET", "/auth/challenge", "", "")
	w, body := serve(t, p, "POST", "/auth/verify", "application/json", "{}")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || body["error"] != "Too many requests" {
		t.Fatalf("%d %v %v", w.Code, w.Header(), body)
	}
}

// TestRefuse: the core's refusals become DeFiMara's statuses; Signet's own
// failures never show their text.
func TestRefuse(t *testing.T) {
	p := New(Config{})
	for _, tc := range []struct {
		err    error
		status int
		words  string
	}{
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckUsed, Description: "challenge was already used"}, 401, "challenge was already used"},
		{&siwe.Error{Code: siwe.CodeInvalidGrant, Check: siwe.CheckSigner, Description: "signature does not match the address"}, 401, "signature does not match the address"},
		{&siwe.Error{Code: siwe.CodeInvalidRequest, Check: siwe.CheckMessage, Description: "message is not a valid EIP-4361 message"}, 401, "message is not a valid EIP-4361 message"},
		{&siwe.Error{Code: siwe.CodeInvalidRequest, Check: siwe.CheckSignature, Description: "signature is not hex"}, 400, "signature is not hex"},
		{&httpapi.Error{Status: 400, Code: "unauthorized_client", Description: "no headless"}, 400, "no headless"},
		{&siwe.Error{Code: siwe.CodeUnavailable, Description: "challenge store is unavailable", Err: errors.New("dial tcp: refused")}, 503, "Temporarily unavailable: challenge store is unavailable"},
		{errors.New("sql: database is locked"), 500, "Internal server error"},
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
