package op_test

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps zitadel's request logs (written to slog's default logger)
// out of test output. Started by a login benchmark, the binary is its load
// generator instead.
func TestMain(m *testing.M) {
	if spec := os.Getenv(loadEnv); spec != "" {
		os.Exit(runLoadChild(spec)) // see load_test.go
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
