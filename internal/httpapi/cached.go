package httpapi

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
)

// Cached is a JSON answer computed once and served with an ETag.
type Cached struct {
	body []byte
	etag string
}

// NewCached returns body with its ETag (RFC 9110 §8.8.3).
func NewCached(body []byte) Cached {
	sum := sha256.Sum256(body)
	return Cached{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// Serve answers with the document, or 304 when the client's copy is current.
func (c Cached) Serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	ServeCached(w, r, c.body, c.etag, cacheControl)
}

// ServeCached answers with body, or 304 when the client's copy is current
// (If-None-Match, RFC 9110 §13.1.2).
func ServeCached(w http.ResponseWriter, r *http.Request, body []byte, etag, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
