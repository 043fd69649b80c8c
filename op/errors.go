package op

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/signet-id/signet/siwe"
)

// apiError is an OAuth error answer (RFC 6749 §5.2).
type apiError struct {
	status      int
	code        string
	description string
}

// toAPIError is the one place where a domain error becomes an OAuth
// answer. Anything it does not recognise is an internal failure whose text
// stays in the log.
func toAPIError(err error) (apiError, bool) {
	var se *siwe.Error
	if errors.As(err, &se) {
		switch se.Code {
		case siwe.CodeInvalidRequest:
			return apiError{http.StatusBadRequest, "invalid_request", se.Description}, true
		case siwe.CodeInvalidGrant:
			return apiError{http.StatusBadRequest, "invalid_grant", se.Description}, true
		case siwe.CodeUnavailable:
			return apiError{http.StatusServiceUnavailable, "temporarily_unavailable", se.Description}, false
		}
	}
	var oe *oidc.Error
	if errors.As(err, &oe) {
		switch oe.ErrorType {
		case oidc.ServerError:
			return apiError{http.StatusInternalServerError, "server_error", "internal error"}, false
		case oidc.InvalidClient:
			return apiError{http.StatusUnauthorized, string(oe.ErrorType), oe.Description}, true
		}
		return apiError{http.StatusBadRequest, string(oe.ErrorType), oe.Description}, true
	}
	return apiError{http.StatusInternalServerError, "server_error", "internal error"}, false
}

// writeError answers with err as OAuth JSON; failures that are not the
// client's fault are logged with the request ID and the client sees only a
// generic description. withMessage adds DIMO's "message" field.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error, withMessage bool) {
	e, clientFault := toAPIError(err)
	if !clientFault {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()),
			"path", r.URL.Path, "err", err)
	}
	writeJSONError(w, e.status, e.code, e.description, withMessage)
}

func writeJSONError(w http.ResponseWriter, status int, code, description string, withMessage bool) {
	body := map[string]string{"error": code, "error_description": description}
	if withMessage {
		body["message"] = description
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="signet"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errBadRequest builds an invalid_request error with a safe description.
func errBadRequest(description string) error {
	return oidc.ErrInvalidRequest().WithDescription("%s", description)
}
