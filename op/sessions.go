package op

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/signet-id/signet/internal/binding"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/login"
	"github.com/signet-id/signet/storage"
)

// Single sign-on (Config.SessionTTL; off when zero). A browser that signed
// in keeps a server-side session, named by its binding cookie, for
// SessionTTL: an authorization request from that browser may then complete
// without a new signature, silently with prompt=none, or with one click on
// the login page ("Continue as …"). prompt=login, and a max_age shorter
// than the time since the signature, ask for a new one (OpenID Connect Core
// §3.1.2.1); /end_session ends the session.

// sessionLogin returns the login of the browser's session when a request
// with this max_age may use it. prompt=login arrives here as max_age=0:
// zitadel turns one into the other when it reads the request
// (ValidateAuthReqPrompt), so one check holds both.
func (s *Server) sessionLogin(ctx context.Context, bindingHash string, maxAge *int64) (*storage.Login, bool) {
	if s.cfg.SessionTTL <= 0 || bindingHash == "" {
		return nil, false
	}
	sess, err := s.db.SessionByBinding(ctx, bindingHash)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.log.WarnContext(ctx, "session lookup failed", "request_id", httpapi.RequestID(ctx), "err", err)
		}
		return nil, false
	}
	if maxAge != nil && s.now().Sub(sess.Login.AuthTime) >= time.Duration(*maxAge)*time.Second {
		return nil, false
	}
	return sess.Login, true
}

// startSession keeps the browser's new sign-in for single sign-on.
func (s *Server) startSession(ctx context.Context, bindingHash string, l *storage.Login) {
	if s.cfg.SessionTTL <= 0 || bindingHash == "" {
		return
	}
	now := s.now()
	err := s.db.SaveSession(ctx, &storage.Session{BindingHash: bindingHash, LoginID: l.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)})
	if err != nil {
		// The sign-in stands; the next one asks for a signature again.
		s.log.WarnContext(ctx, "session not saved", "request_id", httpapi.RequestID(ctx), "err", err)
	}
}

// SessionAccount returns the account the browser's session would sign a in
// as, when a may use it (internal/login offers "Continue as …").
func (s *Server) SessionAccount(ctx context.Context, a *storage.AuthRequest) (*storage.Login, bool) {
	return s.sessionLogin(ctx, a.BindingHash, a.MaxAge)
}

// ContinueSession completes a with the browser's session, without a new
// signature, and returns the callback URL that issues the code.
func (s *Server) ContinueSession(ctx context.Context, a *storage.AuthRequest) (string, error) {
	l, ok := s.SessionAccount(ctx, a)
	if !ok {
		return "", httpapi.BadRequest("your session has ended; sign in with your wallet")
	}
	if err := s.db.AttachLogin(ctx, a.ID, l.ID); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return "", httpapi.BadRequest("this sign-in request expired or was already completed; start again from the app")
		}
		return "", err
	}
	s.metrics.Login("session", "success")
	s.log.InfoContext(ctx, "sign-in", "event", "signin", "flow", "session", "client_id", a.ClientID, "sub", l.Subject,
		"result", "success", "request_id", httpapi.RequestID(ctx))
	return s.callbackURL(a.ID), nil
}

// sessions is what the login page offers single sign-on through; nil when
// sessions are off.
func (s *Server) sessions() login.Sessions {
	if s.cfg.SessionTTL <= 0 {
		return nil
	}
	return s
}

// callbackURL is where a completed authorization request's browser goes
// to receive its code.
func (s *Server) callbackURL(authRequestID string) string {
	return s.url("/authorize/callback?id=" + url.QueryEscape(authRequestID))
}

// endSession wraps /end_session: the browser's session ends with it.
func (s *Server) endSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.binding.Value(r); v != "" && s.cfg.SessionTTL > 0 {
			if err := s.db.EndSession(r.Context(), binding.Hash(v)); err != nil {
				s.log.WarnContext(r.Context(), "session not ended", "request_id", httpapi.RequestID(r.Context()), "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
}
