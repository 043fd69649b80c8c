package compat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/compat"
)

type fixedClients map[string]*clients.Client

func (f fixedClients) Get(_ context.Context, id string) (*clients.Client, error) {
	if c, ok := f[clients.NormalizeID(id)]; ok {
		return c, nil
	}
	return nil, clients.ErrClientNotFound
}

func TestRouterHandsTheClientAndThePathBelowIt(t *testing.T) {
	var gotPath, gotClient string
	rt := &compat.Router{
		Clients: fixedClients{"agents": {ID: "agents", Profile: "reppo"}, "plain": {ID: "plain"}},
		Profiles: map[string]http.Handler{"reppo": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotPath, gotClient = r.URL.Path, compat.Client(r.Context()).ID
		})},
	}
	rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/compat/agents/auth/nonce", nil))
	if gotPath != "/auth/nonce" || gotClient != "agents" {
		t.Fatalf("profile saw path %q client %q", gotPath, gotClient)
	}
	for _, path := range []string{"/compat/nobody/auth/nonce", "/compat/plain/auth/nonce"} {
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, httptest.NewRequest("POST", path, nil))
		var body map[string]string
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusNotFound || body["error"] != "not_found" {
			t.Errorf("%s: %d %s, want 404", path, w.Code, w.Body)
		}
	}
}
