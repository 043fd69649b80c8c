// Package compat serves wire profiles: a client registered with a profile
// (clients add --profile NAME) answers at <issuer>/compat/<client_id>/… in
// the paths, fields, envelopes and status codes of the wallet login it
// replaces, so that the existing clients of that login switch to Signet by
// changing only their base URL. Each profile is a package of its own over
// signin.Core; Router finds the client in the path and hands the request to
// its profile's handler, with the path below the client ID.
package compat

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
)

// SignIn is what every profile's sign-in endpoints work with; a profile's
// Config is, or embeds, it.
type SignIn struct {
	// Core runs the sign-ins.
	Core *signin.Core
	// Limits are the sign-in endpoints' rate limits.
	Limits *httpapi.Limits
	// Log records failures that are not the caller's; nil discards them.
	Log *slog.Logger
}

// WithDefaults returns s with a Log that discards where it has none.
func (s SignIn) WithDefaults() SignIn {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Prefix is the path below the issuer where the profiles are served.
const Prefix = "/compat/"

// Router dispatches /compat/<client_id>/… to the client's profile.
type Router struct {
	Clients signin.Clients
	// Profiles are the handlers by profile name (clients.Profiles).
	Profiles map[string]http.Handler
	Log      *slog.Logger
}

type clientKey struct{}

// Client is the client whose base URL the request came to.
func Client(ctx context.Context) *clients.Client {
	c, _ := ctx.Value(clientKey{}).(*clients.Client)
	return c
}

// ServeHTTP finds the client and serves the request with its profile; an
// unknown client, or one without a profile, is 404.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	c, err := rt.Clients.Get(r.Context(), id)
	if errors.Is(err, clients.ErrClientNotFound) || (err == nil && rt.Profiles[c.Profile] == nil) {
		httpapi.WriteError(w, http.StatusNotFound, "not_found", "no wire profile is served at this base URL", false)
		return
	}
	if err != nil {
		httpapi.WriteOAuth(w, r, rt.Log, err, false)
		return
	}
	r2 := r.WithContext(context.WithValue(r.Context(), clientKey{}, c))
	r2.URL.Path = "/" + rest
	r2.URL.RawPath = ""
	rt.Profiles[c.Profile].ServeHTTP(w, r2)
}
