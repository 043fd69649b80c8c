package op_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/op"
)

// syncBuffer is a log sink the server's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSignInsAreAudited: every sign-in, accepted or refused, is an event in
// the log (flow, client, account, result, request ID), and no event carries
// a signature, a message or a token.
func TestSignInsAreAudited(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "", func(d *op.Deps) { d.Logger = log })
	c, _ := ts.addClient(t, clients.Params{RedirectURIs: []string{dimoDomain}, Public: true})
	w := newWallet(t)

	state, ch := dimoChallenge(t, ts, c.ID, w.Address(), "openid")
	bad := newWallet(t).Sign(t, ch)
	if resp, _ := dimoSubmit(t, ts, c.ID, state, bad); resp.StatusCode != 400 {
		t.Fatalf("bad signature: %d", resp.StatusCode)
	}
	good := w.Sign(t, ch)
	resp, tok := dimoSubmit(t, ts, c.ID, state, good)
	if resp.StatusCode != 200 {
		t.Fatalf("good signature: %d %v", resp.StatusCode, tok)
	}

	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(line), &e) == nil && e["event"] == "signin" {
			events = append(events, e)
		}
	}
	if len(events) != 2 {
		t.Fatalf("%d sign-in events, want 2:\n%s", len(events), logs.String())
	}
	if e := events[0]; e["result"] != "rejected" || e["flow"] != "dimo" || e["client_id"] != c.ID || e["error"] != "invalid_grant" || e["request_id"] == "" {
		t.Errorf("refused sign-in event = %v", e)
	}
	if e := events[1]; e["result"] != "success" || e["sub"] != "eip155:1:"+w.Address() || e["client_id"] != c.ID {
		t.Errorf("sign-in event = %v", e)
	}
	for _, secret := range []string{good[2:], bad[2:], tok["access_token"].(string), tok["id_token"].(string), "Nonce:"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log carries %.20s…", secret)
		}
	}
}
