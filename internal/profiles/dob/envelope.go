package dob

import (
	"net/http"
	"strconv"
	"time"

	"github.com/signet-id/signet/internal/httpapi"
)

// Dob's error codes (docs.dobprotocol.com, agent-api/errors: VALIDATION_ERROR,
// INSUFFICIENT_SCOPE, NOT_FOUND, RATE_LIMIT_EXCEEDED, INTERNAL_ERROR), and
// the ones its table has no row for: a refused sign-in or Bearer token, a
// wrong method, a dependency that is down.
const (
	codeValidation   = "VALIDATION_ERROR"
	codeUnauthorized = "UNAUTHORIZED"
	codeScope        = "INSUFFICIENT_SCOPE"
	codeForbidden    = "FORBIDDEN"
	codeNotFound     = "NOT_FOUND"
	codeMethod       = "METHOD_NOT_ALLOWED"
	codeRateLimited  = "RATE_LIMIT_EXCEEDED"
	codeInternal     = "INTERNAL_ERROR"
	codeUnavailable  = "SERVICE_UNAVAILABLE"
)

// problem is the error member of Dob's envelope.
type problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ok writes Dob's success envelope, {"success": true, "data": …}.
func ok(w http.ResponseWriter, status int, data any) {
	httpapi.WriteJSON(w, status, map[string]any{"success": true, "data": data})
}

// fail writes Dob's error envelope, {"success": false, "error": {code, message}}.
func fail(w http.ResponseWriter, status int, code, message string) {
	httpapi.WriteJSON(w, status, map[string]any{"success": false, "error": problem{Code: code, Message: message}})
}

// tooMany answers 429 with Retry-After (RFC 6585 §4), in Dob's words.
func tooMany(w http.ResponseWriter, wait time.Duration) {
	secs := strconv.Itoa(httpapi.RetryAfter(wait))
	w.Header().Set("Retry-After", secs)
	fail(w, http.StatusTooManyRequests, codeRateLimited, "Rate limit exceeded. Retry after "+secs+" seconds.")
}

// refuse answers a failed request in Dob's envelope: a refused signature or
// challenge (invalid_grant), or a refused client or token, is 401
// UNAUTHORIZED with the words of the check that failed; a missing scope is
// 403 INSUFFICIENT_SCOPE; other client errors keep their status, under
// Dob's code for it; Signet's own failures are logged and answered in
// generic words.
func (p *Profile) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	httpapi.Log(p.cfg.Log, r, e)
	switch {
	case e.Status == http.StatusServiceUnavailable:
		fail(w, e.Status, codeUnavailable, "Temporarily unavailable: "+e.Description)
	case !e.ClientFault():
		fail(w, http.StatusInternalServerError, codeInternal, "An unexpected server error occurred.")
	case e.Code == "invalid_grant" || e.Status == http.StatusUnauthorized:
		fail(w, http.StatusUnauthorized, codeUnauthorized, e.Description)
	case e.Code == "insufficient_scope":
		fail(w, http.StatusForbidden, codeScope, e.Description)
	case e.Status == http.StatusForbidden:
		fail(w, e.Status, codeForbidden, e.Description)
	case e.Status == http.StatusNotFound:
		fail(w, e.Status, codeNotFound, e.Description)
	case e.Status == http.StatusTooManyRequests:
		fail(w, e.Status, codeRateLimited, e.Description)
	default:
		fail(w, http.StatusBadRequest, codeValidation, e.Description)
	}
}
