package siwa

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAgentIDForms(t *testing.T) {
	for raw, want := range map[string]int64{`42`: 42, `"42"`: 42, ` 0 `: 0, `9007199254740993`: 9007199254740993} {
		got, err := agentID(json.RawMessage(raw))
		if err != nil || got == nil || *got != want {
			t.Errorf("agentID(%s) = %v, %v; want %d", raw, got, err, want)
		}
	}
	for _, raw := range []string{``, `null`} {
		if got, err := agentID(json.RawMessage(raw)); err != nil || got != nil {
			t.Errorf("agentID(%q) = %v, %v; want none", raw, got, err)
		}
	}
	for _, raw := range []string{`-1`, `4.2`, `"+4"`, `"four"`, `1e3`, `{}`, `99999999999999999999`} {
		if got, err := agentID(json.RawMessage(raw)); err == nil {
			t.Errorf("agentID(%s) = %v, want an error", raw, *got)
		}
	}
}

// TestRoutes: unknown paths are 404 and known ones with another method 405,
// both in the profile's envelope; a preflight is 204; CORS is open on all.
func TestRoutes(t *testing.T) {
	p := New(Config{Issuer: "https://id.example"})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/nothing", http.StatusNotFound},
		{"GET", "/api/siwa/nonce", http.StatusMethodNotAllowed},
		{"POST", "/api/protected", http.StatusMethodNotAllowed},
		{"OPTIONS", "/api/siwa/verify", http.StatusNoContent},
	} {
		w := httptest.NewRecorder()
		p.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || w.Header().Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s %s: %d %v, want %d with open CORS", tc.method, tc.path, w.Code, w.Header(), tc.status)
		}
		if tc.status != http.StatusNoContent {
			var body map[string]any
			if json.Unmarshal(w.Body.Bytes(), &body) != nil || body["success"] != false || body["error"] == "" {
				t.Errorf("%s %s: body %s", tc.method, tc.path, w.Body)
			}
		}
	}
}
