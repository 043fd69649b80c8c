package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// contentTypes fixes the Content-Type of every kind of static file, so the answer does not depend on
// the host's MIME database.
var contentTypes = map[string]string{
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".webp": "image/webp",
}

// Cache lifetimes: a URL that carries the file's current hash (?v=…, as the templates write it) never
// changes, so browsers may keep it for a year; any other URL is revalidated after a few minutes.
const (
	cacheVersioned   = "public, max-age=31536000, immutable"
	cacheUnversioned = "public, max-age=300, must-revalidate"
)

// staticFile is one embedded asset, read once.
type staticFile struct {
	body []byte
	hash string // first 16 hex digits of the SHA-256 of body
}

// loadStatic reads every embedded static file, keyed by its path below static/.
func loadStatic() (map[string]staticFile, error) {
	files := make(map[string]staticFile)
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		files[strings.TrimPrefix(p, "static/")] = staticFile{body: body, hash: hex.EncodeToString(sum[:8])}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: read static files: %w", err)
	}
	return files, nil
}

// assetHashes returns the content hash of every static file, keyed by its name.
func assetHashes() (map[string]string, error) {
	files, err := loadStatic()
	if err != nil {
		return nil, err
	}
	hashes := make(map[string]string, len(files))
	for name, f := range files {
		hashes[name] = f.hash
	}
	return hashes, nil
}

// Static serves the embedded static files (login.js, style.css, …) with caching headers; mount it
// with http.StripPrefix.
func Static() http.Handler {
	files, err := loadStatic()
	if err != nil {
		// The files are compiled in; failing to read them is a build defect, not a runtime condition.
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		f, ok := files[name]
		ctype, known := contentTypes[path.Ext(name)]
		if !ok || !known {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("ETag", `"`+f.hash+`"`)
		if r.URL.Query().Get("v") == f.hash {
			h.Set("Cache-Control", cacheVersioned)
		} else {
			h.Set("Cache-Control", cacheUnversioned)
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	})
}
