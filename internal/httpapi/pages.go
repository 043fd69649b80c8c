package httpapi

import (
	"net/http"

	"github.com/signet-id/signet/web"
)

// contentSecurityPolicy is sent with every HTML page: scripts and styles
// come only from Signet itself, and no page may be framed.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// SetPageHeaders sets the headers every HTML page carries.
func SetPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

// Pages renders Signet's pages with the URL prefix of its static files.
type Pages struct {
	*web.Pages
	// Static is the URL prefix of the static files, ending in "/".
	Static string
}

// ErrorPage answers with the error page: a title and what happened, in
// words, with what the person can do next.
func (p *Pages) ErrorPage(w http.ResponseWriter, status int, title, message string) {
	SetPageHeaders(w)
	w.WriteHeader(status)
	_ = p.Error(w, web.ErrorData{Title: title, Message: message, StaticURL: p.Static})
}
