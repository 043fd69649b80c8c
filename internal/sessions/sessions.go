// Package sessions is single sign-on (SPEC "Single sign-on"; off unless
// sessions.ttl is set). A browser that signed in keeps a server-side
// session, named by its binding cookie, for the configured time: an
// authorization request from that browser may then complete without a new
// signature, silently with prompt=none, or with one click on the login
// page ("Continue as …"). prompt=login, and a max_age shorter than the
// time since the signature, ask for a new one (OpenID Connect Core
// §3.1.2.1); /end_session ends the session.
package sessions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/metrics"
	"github.com/signet-id/signet/storage"
)

// Store keeps the sessions; *storage.DB is one.
type Store interface {
	SessionByBinding(ctx context.Context, bindingHash string) (*storage.Session, error)
	SaveSession(ctx context.Context, s *storage.Session) error
	EndSession(ctx context.Context, bindingHash string) error
	AttachLogin(ctx context.Context, authRequestID, loginID string) error
}

// Sessions finds, starts, continues and ends browsers' sessions.
type Sessions struct {
	DB Store
	// TTL is how long a session lasts; zero turns sessions off.
	TTL     time.Duration
	Binding binding.Cookie
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// CallbackURL is where a completed authorization request's browser
	// goes to receive its code.
	CallbackURL func(authRequestID string) string
}

// On reports whether sessions are kept.
func (s *Sessions) On() bool { return s.TTL > 0 }

// Login returns the login of the browser's session when a request with
// this max_age may use it. prompt=login arrives here as max_age=0: zitadel
// turns one into the other when it reads the request
// (ValidateAuthReqPrompt), so one check holds both.
func (s *Sessions) Login(ctx context.Context, bindingHash string, maxAge *int64) (*storage.Login, bool) {
	if !s.On() || bindingHash == "" {
		return nil, false
	}
	sess, err := s.DB.SessionByBinding(ctx, bindingHash)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.Log.WarnContext(ctx, "session lookup failed", "request_id", httpapi.RequestID(ctx), "err", err)
		}
		return nil, false
	}
	if maxAge != nil && s.Now().Sub(sess.Login.AuthTime) >= time.Duration(*maxAge)*time.Second {
		return nil, false
	}
	return sess.Login, true
}

// Start keeps the browser's new sign-in for single sign-on.
func (s *Sessions) Start(ctx context.Context, bindingHash string, l *storage.Login) {
	if !s.On() || bindingHash == "" {
		return
	}
	now := s.Now()
	err := s.DB.SaveSession(ctx, &storage.Session{BindingHash: bindingHash, LoginID: l.ID, CreatedAt: now, ExpiresAt: now.Add(s.TTL)})
	if err != nil {
		// The sign-in stands; the next one asks for a signature again.
		s.Log.WarnContext(ctx, "session not saved", "request_id", httpapi.RequestID(ctx), "err", err)
	}
}

// SessionAccount returns the account the browser's session would sign a in
// as, when a may use it (the login page offers "Continue as …").
func (s *Sessions) SessionAccount(ctx context.Context, a *storage.AuthRequest) (*storage.Login, bool) {
	return s.Login(ctx, a.BindingHash, a.MaxAge)
}

// ContinueSession completes a with the browser's session, without a new
// signature, and returns the callback URL that issues the code.
func (s *Sessions) ContinueSession(ctx context.Context, a *storage.AuthRequest) (string, error) {
	l, ok := s.SessionAccount(ctx, a)
	if !ok {
		return "", httpapi.BadRequest("your session has ended; sign in with your wallet")
	}
	if err := s.DB.AttachLogin(ctx, a.ID, l.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", httpapi.BadRequest("this sign-in request expired or was already completed; start again from the app")
		}
		return "", err
	}
	s.Metrics.Login("session", "success")
	s.Log.InfoContext(ctx, "sign-in", "event", "signin", "flow", "session", "client_id", a.ClientID, "sub", l.Subject,
		"result", "success", "request_id", httpapi.RequestID(ctx))
	return s.CallbackURL(a.ID), nil
}

// EndOnLogout wraps /end_session: the browser's session ends with it.
func (s *Sessions) EndOnLogout(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.Binding.Value(r); v != "" && s.On() {
			if err := s.DB.EndSession(r.Context(), binding.Hash(v)); err != nil {
				s.Log.WarnContext(r.Context(), "session not ended", "request_id", httpapi.RequestID(r.Context()), "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}
