package op

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/signet-id/signet/storage"
)

// Browser binding (RFC 9700 §4.4 and §4.7): /authorize gives the browser a
// random value in an HttpOnly, SameSite=Lax cookie and stores its SHA-256 on
// the authorization request. The login page, its JSON endpoints and
// /authorize/callback then refuse a request that does not carry it, so
// whoever holds only the authRequestID (a bearer value in the login URL)
// can neither finish the sign-in nor receive its code.

// bindingBytes is the entropy of a binding value.
const bindingBytes = 32

type bindingKey struct{}

// bindingCookieName is the cookie's name: with an https issuer the
// __Host- prefix pins it to this host, with Secure and Path=/
// (RFC 6265bis §4.1.3.2).
func (s *Server) bindingCookieName() string {
	if s.issuer.Scheme == "https" {
		return "__Host-signet_browser"
	}
	return "signet_browser"
}

// browserBinding returns the binding value the request's cookie carries,
// or "" when it has none that is well-formed.
func (s *Server) browserBinding(r *http.Request) string {
	c, err := r.Cookie(s.bindingCookieName())
	if err != nil {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != bindingBytes {
		return ""
	}
	return c.Value
}

// bindBrowser makes sure the browser behind r has a binding cookie (a new
// one is set on w) and returns r with the value in its context, where
// CreateAuthRequest finds it. A browser keeps one value for all its
// sign-ins, so two tabs may sign in at once.
func (s *Server) bindBrowser(w http.ResponseWriter, r *http.Request) *http.Request {
	v := s.browserBinding(r)
	if v == "" {
		v = randomID(bindingBytes)
		http.SetCookie(w, &http.Cookie{
			Name:     s.bindingCookieName(),
			Value:    v,
			Path:     "/",
			HttpOnly: true,
			Secure:   s.issuer.Scheme == "https",
			SameSite: http.SameSiteLaxMode,
		})
	}
	return r.WithContext(context.WithValue(r.Context(), bindingKey{}, v))
}

// bindingFromContext is the value bindBrowser put in ctx.
func bindingFromContext(ctx context.Context) string {
	v, _ := ctx.Value(bindingKey{}).(string)
	return v
}

// boundToBrowser reports whether r comes from the browser that started a.
func (s *Server) boundToBrowser(r *http.Request, a *storage.AuthRequest) bool {
	v := s.browserBinding(r)
	if v == "" || a.BindingHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashToken(v)), []byte(a.BindingHash)) == 1
}

// errOtherBrowser is the answer to a step of a sign-in that another browser started.
var errOtherBrowser = errBadRequest("this sign-in was started in another browser; start again from the app in this browser")
