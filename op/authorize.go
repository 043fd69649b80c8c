package op

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/signet-id/signet/internal/httpapi"
)

// addIss appends iss to a redirect that carries an authorization response
// (code or error) in its query, and leaves redirects to the login page alone.
func (s *Server) addIss(h http.Header) {
	loc := h.Get("Location")
	if loc == "" || strings.HasPrefix(loc, s.url("/login")) {
		return
	}
	u, err := url.Parse(loc)
	if err != nil {
		return
	}
	q := u.Query()
	if (q.Get("code") == "" && q.Get("error") == "") || q.Has("iss") {
		return
	}
	q.Set("iss", s.cfg.Issuer)
	u.RawQuery = q.Encode()
	h.Set("Location", u.String())
}

// describeZitadelError keeps the OAuth description of zitadel's error text
// ("ErrorType=… Description=… Parent=…") and drops the Go error behind it.
func describeZitadelError(text string) string {
	_, desc, ok := strings.Cut(text, "Description=")
	if !ok {
		return "The sign-in request is not valid. Start again from the app."
	}
	desc, _, _ = strings.Cut(desc, " Parent=")
	return strings.TrimSpace(desc)
}

// authorizeResponses wraps zitadel's authorization endpoints:
//   - it adds "iss" to authorization responses redirected to a client
//     (RFC 9207 §2), which zitadel leaves out;
//   - it replaces zitadel's plain-text error answers (which carry Go error
//     text) with Signet's error page, keeping only the OAuth description.
func (s *Server) authorizeResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &httpapi.Capture{ResponseWriter: w, OnRedirect: s.addIss}
		next.ServeHTTP(c, r)
		if c.Captured {
			desc := describeZitadelError(c.Body.String())
			s.log.InfoContext(r.Context(), "authorization request refused", "request_id", httpapi.RequestID(r.Context()), "status", c.Status, "description", desc)
			s.pages.ErrorPage(w, c.Status, "Cannot sign in", desc)
		}
	})
}
