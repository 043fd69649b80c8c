package op_test

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain keeps zitadel's request logs (written to slog's default logger)
// out of test output.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
