package httpapi

import (
	"net/http"
	"net/url"
)

// ClientCredentials are what a caller presented to authenticate as a client
// (RFC 6749 §2.3.1).
type ClientCredentials struct {
	ID, Secret string
	// Present reports that the caller presented any credentials at all.
	Present bool
}

// CredentialsFrom reads HTTP Basic credentials (each part form-encoded,
// RFC 6749 §2.3.1), else the body's client_id and client_secret.
func CredentialsFrom(r *http.Request, bodyID, bodySecret string) ClientCredentials {
	if id, secret, ok := r.BasicAuth(); ok {
		uid, err1 := url.QueryUnescape(id)
		usecret, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return ClientCredentials{Present: true}
		}
		return ClientCredentials{ID: uid, Secret: usecret, Present: true}
	}
	if bodySecret != "" {
		return ClientCredentials{ID: bodyID, Secret: bodySecret, Present: true}
	}
	return ClientCredentials{}
}
