package op

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
)

// authorizeResponses wraps zitadel's authorization endpoints:
//   - it adds "iss" to authorization responses redirected to a client
//     (RFC 9207 §2), which zitadel leaves out;
//   - it replaces zitadel's plain-text error answers (which carry Go error
//     text) with Signet's error page, keeping only the OAuth description.
func (s *Server) authorizeResponses(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		aw := &authorizeWriter{ResponseWriter: w, issuer: s.cfg.Issuer, loginPrefix: s.url("/login")}
		next.ServeHTTP(aw, r)
		if aw.captured {
			title, desc := "Cannot sign in", describeZitadelError(aw.body.String())
			s.log.InfoContext(r.Context(), "authorization request refused", "request_id", RequestID(r.Context()), "status", aw.status, "description", desc)
			s.errorPage(w, aw.status, title, desc)
		}
	})
}

type authorizeWriter struct {
	http.ResponseWriter
	issuer      string
	loginPrefix string
	wrote       bool
	captured    bool
	status      int
	body        bytes.Buffer
}

func (w *authorizeWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	switch {
	case code == http.StatusFound || code == http.StatusSeeOther:
		w.addIss()
	case code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain"):
		w.captured, w.status = true, code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *authorizeWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.captured {
		return w.body.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *authorizeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addIss appends iss to a redirect that carries an authorization response
// (code or error) in its query, and leaves redirects to the login page alone.
func (w *authorizeWriter) addIss() {
	loc := w.Header().Get("Location")
	if loc == "" || strings.HasPrefix(loc, w.loginPrefix) {
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
	q.Set("iss", w.issuer)
	u.RawQuery = q.Encode()
	w.Header().Set("Location", u.String())
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
