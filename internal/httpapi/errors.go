package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/siwe"
)

// Error is a failed request's answer: an OAuth error code (RFC 6749 §5.2
// and its extensions), the HTTP status, a description safe to show, and,
// when a SIWE check failed, which one, so that each surface can choose its
// own words and status. Err is the internal cause: logged, never shown.
type Error struct {
	Status      int
	Code        string
	Description string
	Check       siwe.Check
	Err         error
}

// Error returns the code and description, and the cause, for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Description, e.Err)
	}
	return e.Code + ": " + e.Description
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// ClientFault reports whether the caller's request caused the error (4xx),
// rather than Signet or something it depends on.
func (e *Error) ClientFault() bool { return e.Status < 500 }

// BadRequest is a 400 invalid_request with a safe description.
func BadRequest(description string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: description}
}

// From is the one place where an error becomes an answer: an *Error as it
// is, a *siwe.Error by its code, a zitadel *oidc.Error by its type, and
// anything else as a 500 server_error whose text stays in the log.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var se *siwe.Error
	if errors.As(err, &se) {
		switch se.Code {
		case siwe.CodeInvalidRequest:
			return &Error{Status: http.StatusBadRequest, Code: "invalid_request", Description: se.Description, Check: se.Check, Err: err}
		case siwe.CodeInvalidGrant:
			return &Error{Status: http.StatusBadRequest, Code: "invalid_grant", Description: se.Description, Check: se.Check, Err: err}
		case siwe.CodeUnavailable:
			return &Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Description: se.Description, Check: se.Check, Err: err}
		}
	}
	var oe *oidc.Error
	if errors.As(err, &oe) {
		switch oe.ErrorType {
		case oidc.ServerError:
		case oidc.InvalidClient:
			return &Error{Status: http.StatusUnauthorized, Code: string(oe.ErrorType), Description: oe.Description, Err: err}
		default:
			return &Error{Status: http.StatusBadRequest, Code: string(oe.ErrorType), Description: oe.Description, Err: err}
		}
	}
	return &Error{Status: http.StatusInternalServerError, Code: "server_error", Description: "internal error", Err: err}
}

// Log records an error that is not the caller's fault, with the request ID.
func Log(log *slog.Logger, r *http.Request, e *Error) {
	if !e.ClientFault() {
		log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "path", r.URL.Path, "err", e.Err)
	}
}

// WriteOAuth answers with err as RFC 6749 §5.2 JSON, logging it first when
// it is not the caller's fault. withMessage adds DIMO's "message" field
// (the description again), which DIMO's SDKs show.
func WriteOAuth(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, withMessage bool) {
	e := From(err)
	Log(log, r, e)
	WriteError(w, e.Status, e.Code, e.Description, withMessage)
}

// WriteError writes an RFC 6749 §5.2 error body; a 401 carries
// WWW-Authenticate (Basic unless the caller set another).
func WriteError(w http.ResponseWriter, status int, code, description string, withMessage bool) {
	body := map[string]string{"error": code, "error_description": description}
	if withMessage {
		body["message"] = description
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="signet"`)
	}
	WriteJSON(w, status, body)
}
