package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const wrongSecretMessage = "SIGNET_SECRET does not open the signing keys stored in this database"

// With the wrong SIGNET_SECRET, `keys rotate` would seal a key that the
// servers cannot open, and every sign-in would fail once it signs; `serve`
// would start and fail every sign-in. Both refuse, and say why.
func TestWrongSecretIsRefused(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
	right := map[string]string{"SIGNET_DATABASE": db, "SIGNET_SECRET": strings.Repeat("r", 40)}
	wrong := map[string]string{"SIGNET_DATABASE": db, "SIGNET_SECRET": strings.Repeat("w", 40)}
	if _, err := run(t, right, "keys", "rotate", "--create"); err != nil {
		t.Fatal(err)
	}

	_, err := run(t, wrong, "keys", "rotate")
	if err == nil || !strings.Contains(err.Error(), wrongSecretMessage) {
		t.Fatalf("keys rotate with the wrong secret: %v", err)
	}
	out, err := run(t, right, "keys", "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var listed struct{ Keys []map[string]string }
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed.Keys) != 1 {
		t.Fatalf("keys after a refused rotation: %s %v", out, err)
	}

	err = serveOnce(t, wrong)
	if err == nil || !strings.Contains(err.Error(), wrongSecretMessage) {
		t.Fatalf("serve with the wrong secret: %v", err)
	}
	// Started once with the right secret, the database also holds the
	// crypto key; the wrong secret is still refused, with the same words.
	if err := serveOnce(t, right); err != nil {
		t.Fatalf("serve with the right secret: %v", err)
	}
	err = serveOnce(t, wrong)
	if err == nil || !strings.Contains(err.Error(), wrongSecretMessage) {
		t.Fatalf("serve with the wrong secret after a start: %v", err)
	}
	if _, err := run(t, wrong, "keys", "rotate"); err == nil || !strings.Contains(err.Error(), wrongSecretMessage) {
		t.Fatalf("keys rotate with the wrong secret after a start: %v", err)
	}
}

// serveOnce runs `serve` on a free port and stops it as soon as it listens;
// it returns the error of a serve that did not start.
func serveOnce(t *testing.T, env map[string]string) error {
	t.Helper()
	started := make(chan string, 1)
	var stderr bytes.Buffer
	m := &Main{Stdout: io.Discard, Stderr: &stderr, Started: started, Getenv: func(k string) string {
		switch k {
		case "SIGNET_ISSUER":
			return "http://127.0.0.1:1"
		case "SIGNET_LISTEN":
			return "127.0.0.1:0"
		}
		return env[k]
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve"}) }()
	select {
	case <-started:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve stopped with %v\n%s", err, stderr.String())
		}
		return nil
	case err := <-done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("serve neither started nor failed")
		return nil
	}
}
