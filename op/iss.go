package op

import (
	"net/http"
	"net/url"
)

// withIssParam adds the "iss" parameter to authorization responses that
// redirect to a client (RFC 9207 §2), which zitadel leaves out: a client
// that talks to several issuers can then tell which one answered.
func (s *Server) withIssParam(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&issWriter{ResponseWriter: w, issuer: s.cfg.Issuer, loginPrefix: s.url("/login")}, r)
	})
}

type issWriter struct {
	http.ResponseWriter
	issuer      string
	loginPrefix string
	wrote       bool
}

func (w *issWriter) WriteHeader(code int) {
	if !w.wrote && (code == http.StatusFound || code == http.StatusSeeOther) {
		w.addIss()
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *issWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *issWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addIss appends iss to a redirect that carries an authorization response
// (code or error) in its query, and leaves redirects to the login page alone.
func (w *issWriter) addIss() {
	loc := w.Header().Get("Location")
	if loc == "" || len(loc) >= len(w.loginPrefix) && loc[:len(w.loginPrefix)] == w.loginPrefix {
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
