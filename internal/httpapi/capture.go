package httpapi

import (
	"bytes"
	"mime"
	"net/http"
	"strings"
)

// Capture wraps a ResponseWriter to hold back an error answer (status 400
// or more), so that a wrapper can replace what a library wrote, and lets
// the wrapper change a redirect's headers before they are sent. Other
// answers pass through.
type Capture struct {
	http.ResponseWriter
	// OnRedirect, if set, may change the headers of a 3xx answer.
	OnRedirect func(h http.Header)

	wrote bool
	// Captured reports that an error answer was held back: its Status and Body.
	Captured bool
	Status   int
	Body     bytes.Buffer
}

// WriteHeader holds back an error status and passes any other on.
func (c *Capture) WriteHeader(code int) {
	if c.wrote {
		return
	}
	c.wrote = true
	switch {
	case code >= 400:
		c.Captured, c.Status = true, code
		return
	case code >= 300 && c.OnRedirect != nil:
		c.OnRedirect(c.Header())
	}
	c.ResponseWriter.WriteHeader(code)
}

// Write holds back the body of an error answer.
func (c *Capture) Write(b []byte) (int, error) {
	if !c.wrote {
		c.WriteHeader(http.StatusOK)
	}
	if c.Captured {
		return c.Body.Write(b)
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped ResponseWriter.
func (c *Capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// IsJSON reports whether the held-back answer was JSON.
func (c *Capture) IsJSON() bool {
	mt, _, _ := mime.ParseMediaType(c.Header().Get("Content-Type"))
	return mt == "application/json"
}

// Truncate shortens s to at most n bytes, marking the cut; it never
// splits a character.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
