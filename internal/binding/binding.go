// Package binding binds a sign-in to the browser that started it (RFC 9700
// §4.4 and §4.7): /authorize gives the browser a random value in an
// HttpOnly, SameSite=Lax cookie and stores the value's hash with the
// authorization request; the login page, its JSON endpoints and the
// authorization callback then refuse a request that does not carry it. So
// whoever holds only the authRequestID (a bearer value in the login URL)
// can neither finish the sign-in nor receive its code.
package binding

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
)

// valueBytes is the entropy of a binding value.
const valueBytes = 32

// Cookie is the binding cookie of one issuer.
type Cookie struct {
	name   string
	secure bool
}

// NewCookie returns the cookie for an issuer served over https (secure) or
// plain http. With https the __Host- prefix pins it to this host, with
// Secure and Path=/ (RFC 6265bis §4.1.3.2).
func NewCookie(secure bool) Cookie {
	if secure {
		return Cookie{name: "__Host-signet_browser", secure: true}
	}
	return Cookie{name: "signet_browser"}
}

// Value returns the binding value r's cookie carries, or "" when it has
// none that is well-formed.
func (c Cookie) Value(r *http.Request) string {
	ck, err := r.Cookie(c.name)
	if err != nil {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(raw) != valueBytes {
		return ""
	}
	return ck.Value
}

// Ensure returns the browser's binding value, giving it a new cookie on w
// when it has none. A browser keeps one value for all its sign-ins, so two
// tabs may sign in at once.
func (c Cookie) Ensure(w http.ResponseWriter, r *http.Request) string {
	if v := c.Value(r); v != "" {
		return v
	}
	b := make([]byte, valueBytes)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: c.name, Value: v, Path: "/", HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode})
	return v
}

// Hash is what is stored of a binding value: its SHA-256, hex.
func Hash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// Matches reports whether r carries the binding value whose hash is stored.
func (c Cookie) Matches(r *http.Request, storedHash string) bool {
	v := c.Value(r)
	if v == "" || storedHash == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(Hash(v)), []byte(storedHash)) == 1
}

// OtherBrowser explains, for the error page, that a sign-in belongs to
// another browser, and points back to the app (the host of redirectURI),
// where a new sign-in starts in this browser.
func OtherBrowser(redirectURI string) string {
	msg := "This sign-in was started in another browser, so it cannot be finished here (invalid_request)."
	if u, err := url.Parse(redirectURI); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		return msg + " Go back to " + u.Host + " and start again in this browser."
	}
	return msg + " Start again from the app in this browser."
}
