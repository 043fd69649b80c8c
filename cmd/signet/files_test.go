package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// The dev secret opens every signing key: only its owner may read it.
func TestDevSecretFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Dev: true, Database: "sqlite:" + filepath.Join(dir, "signet.db")}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	secret, err := resolveSecret(cfg, log, true)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "signet.secret"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("signet.secret has mode %o, want 600", got)
	}
	// The next start reads the same secret back.
	if again, err := resolveSecret(cfg, log, true); err != nil || again != secret {
		t.Fatalf("second start: %v, same secret %v", err, again == secret)
	}
}
