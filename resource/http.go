package resource

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Error codes: RFC 6750 §3.1's, and one for a Signet that cannot be asked.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
	CodeUnavailable       = "temporarily_unavailable"
)

// Error is why a request was refused, in words safe to show; Unwrap gives
// the hidden cause to log (e.g. why the JWKS could not be fetched).
type Error struct {
	Status      int    // 400, 401, 403 or 503
	Code        string // one of the Code constants
	Description string // which check failed
	Scope       string // the scopes the resource needs (insufficient_scope)
	Missing     bool   // the request carried no credential at all
	cause       error
}

// Error returns the code and the description.
func (e *Error) Error() string { return e.Code + ": " + e.Description }

// Unwrap returns the hidden cause.
func (e *Error) Unwrap() error { return e.cause }

// missing is a 401 for a request without a credential (RFC 6750 §3.1).
func missing() *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "a Bearer token or an API key is required", Missing: true}
}

// invalid is a 401 invalid_token (RFC 6750 §3.1).
func invalid(description string, cause error) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: description, cause: cause}
}

// unavailable is a 503: Signet could not be asked, so the credential is
// neither good nor bad, and a 401 would make the client discard it.
func unavailable(cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: "the credential cannot be checked now; try again later", cause: cause}
}

// Authenticate verifies the request's one credential: an X-API-Key by
// introspection, a Bearer token (RFC 6750 §2.1) offline or, as configured,
// by introspection. Tokens in the query or body (RFC 6750 §2.2, §2.3) are
// not read.
func (v *Verifier) Authenticate(r *http.Request) (*Principal, error) {
	auth, keys := r.Header.Values("Authorization"), r.Header.Values("X-API-Key")
	switch {
	case len(auth)+len(keys) > 1: // RFC 6750 §3.1: more than one method
		return nil, &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "send one credential, not several"}
	case len(keys) == 1:
		return v.Introspect(r.Context(), keys[0])
	}
	// auth has at most one value; its scheme is case-insensitive (RFC 7235 §2.1).
	scheme, token, _ := strings.Cut(strings.Join(auth, ""), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return nil, missing()
	}
	if token = strings.TrimSpace(token); v.cfg.Introspect || (v.cfg.Opaque && strings.Count(token, ".") != 2) {
		return v.Introspect(r.Context(), token)
	}
	return v.Verify(r.Context(), token)
}

type contextKey struct{}

// FromContext returns the Principal that [Verifier.Require] put in ctx.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(contextKey{}).(*Principal)
	return p, ok
}

// Require is middleware that passes a request with a valid credential
// holding every one of scopes on, its [Principal] in the context. Others get
// 401 invalid_token, 403 insufficient_scope or 400 invalid_request with
// WWW-Authenticate (RFC 6750 §3, §3.1), or 503 with Retry-After.
func (v *Verifier) Require(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := v.Authenticate(r)
			if err == nil && slices.ContainsFunc(scopes, func(s string) bool { return !p.HasScope(s) }) {
				err = &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Scope: strings.Join(scopes, " "),
					Description: "the credential lacks a scope this resource needs"}
			}
			if err != nil {
				v.refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), contextKey{}, p)))
		})
	}
}

// refuse sets the protocol headers, then lets WriteError write the answer.
func (v *Verifier) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = unavailable(err)
	}
	h := `Bearer realm="` + v.cfg.Realm + `"`
	if !e.Missing { // RFC 6750 §3.1: no error code when no credential was sent
		h += `, error="` + e.Code + `", error_description="` + e.Description + `"`
	}
	if e.Scope != "" {
		h += `, scope="` + e.Scope + `"`
	}
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "10")
	} else {
		w.Header().Set("WWW-Authenticate", h)
	}
	w.Header().Set("Cache-Control", "no-store")
	v.cfg.WriteError(w, r, e)
}

// WriteError writes e as JSON {"error", "error_description"} with e.Status
// (RFC 6750 §3, RFC 6749 §5.2); it is Config.WriteError's default.
func WriteError(w http.ResponseWriter, _ *http.Request, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.Code, "error_description": e.Description})
}
