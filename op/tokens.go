package op

import (
	"context"
	"errors"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// The provider's side of a verified sign-in (signin.Tokens): both flows
// consume their challenge in the transaction that stores their login, on
// any replica at most once.

var _ signin.Tokens = (*Server)(nil)

// Issue records a headless sign-in's login and builds its token response
// with the same machinery, keys, claims and lifetimes as the code flow.
func (s *Server) Issue(ctx context.Context, ch *siwe.Challenge, l *storage.Login) (*oidc.AccessTokenResponse, error) {
	cl, err := s.store.client(ctx, ch.ClientID)
	if err != nil {
		return nil, err
	}
	req := authRequest{AuthRequest: &storage.AuthRequest{
		ClientID:     ch.ClientID,
		RedirectURI:  ch.RedirectURI,
		ResponseType: string(oidc.ResponseTypeCode),
		Scopes:       ch.Scopes,
		Login:        l,
	}, challenge: ch.ID}
	ctx = zop.ContextWithIssuer(ctx, s.cfg.Issuer)
	return zop.CreateTokenResponse(ctx, req, cl, s.provider, true, "", "")
}

// Complete attaches a browser sign-in's login to its authorization request
// and returns the callback URL, which issues the code.
func (s *Server) Complete(ctx context.Context, authRequestID string, ch *siwe.Challenge, l *storage.Login) (string, error) {
	err := s.db.CompleteAuthRequest(ctx, authRequestID, ch.ID, l)
	switch {
	case errors.Is(err, siwe.ErrChallengeUsed):
		return "", siwe.ErrChallengeReused
	case errors.Is(err, storage.ErrNotFound):
		return "", oidc.ErrInvalidRequest().WithDescription("this sign-in request expired or was already completed; start again from the app")
	case err != nil:
		return "", err
	}
	if s.cfg.SessionTTL > 0 {
		if a, err := s.db.AuthRequestByID(ctx, authRequestID); err == nil {
			s.sessions.Start(ctx, a.BindingHash, l)
		}
	}
	return s.callbackURL(authRequestID), nil
}
