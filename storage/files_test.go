package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/storage"
)

// The SQLite files hold login history: only their owner may read them,
// whatever the umask, and a file left readable by an older version is
// tightened on the next start.
func TestSQLiteFilesArePrivate(t *testing.T) {
	for _, tt := range []struct {
		name     string
		existing os.FileMode // 0: no file before Open
		leftover bool        // a -wal and -shm left by a crash, with the same mode
	}{
		{"new database", 0, false},
		{"existing world-readable database", 0o644, false},
		{"existing group-readable database", 0o640, false},
		{"world-readable files left by a crash", 0o644, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "signet.db")
			names := []string{path}
			if tt.leftover {
				names = append(names, path+"-wal", path+"-shm")
			}
			for _, name := range names {
				if tt.existing == 0 {
					break
				}
				if err := os.WriteFile(name, nil, tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(name, tt.existing); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			db, err := storage.Open(context.Background(), "sqlite:"+path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// A write makes SQLite create the WAL and its index beside the file.
			if err := db.CreateClient(context.Background(), &clients.Client{ID: "c", Name: "c"}); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != 0o600 {
					t.Errorf("%s has mode %o, want 600", filepath.Base(name), got)
				}
			}
		})
	}
}
