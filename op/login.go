package op

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	zop "github.com/zitadel/oidc/v3/pkg/op"

	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
	"github.com/signet-id/signet/web"
)

// maxJSONBody bounds the JSON bodies of the login and headless endpoints.
const maxJSONBody = 64 << 10

// contentSecurityPolicy is sent with every HTML page: scripts and styles
// come only from Signet itself.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
}

func (s *Server) errorPage(w http.ResponseWriter, status int, title, message string) {
	setPageHeaders(w)
	w.WriteHeader(status)
	_ = s.pages.Error(w, web.ErrorData{Title: title, Message: message, StaticURL: s.path("/static/")})
}

// pendingAuthRequest loads an authorization request that still waits for a
// sign-in in this browser; errOtherBrowser (with the request) when another
// browser started it.
func (s *Server) pendingAuthRequest(r *http.Request, id string) (*storage.AuthRequest, error) {
	if id == "" {
		return nil, errBadRequest("authRequestID is required")
	}
	a, err := s.db.AuthRequestByID(r.Context(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown authorization request; start the sign-in again from the app")
	}
	if err != nil {
		return nil, err
	}
	if !s.now().Before(a.ExpiresAt) {
		return nil, oidc.ErrInvalidRequest().WithDescription("this sign-in request expired; start again from the app")
	}
	if !s.boundToBrowser(r, a) {
		return a, errOtherBrowser
	}
	if a.Login != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("this sign-in request was already completed")
	}
	return a, nil
}

// scopeClaims says, in words, what each scope gives the app.
func scopeClaims(scopes []string) []string {
	out := []string{"Your Ethereum address and chain, as your account ID"}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		out = append(out, "Your username (your ENS name or address)")
	}
	if slices.Contains(scopes, ScopeSIWE) {
		out = append(out, "The message you sign and its signature, so the app can verify it itself")
	}
	if slices.Contains(scopes, oidc.ScopeOfflineAccess) {
		out = append(out, "Access while you are away (a refresh token)")
	}
	return out
}

// handleLoginPage renders the sign-in page for an authorization request.
func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	a, err := s.pendingAuthRequest(r, r.URL.Query().Get("authRequestID"))
	if err == errOtherBrowser {
		s.otherBrowserPage(w, a)
		return
	}
	if err != nil {
		e, clientFault := toAPIError(err)
		if !clientFault {
			s.log.ErrorContext(r.Context(), "login page", "request_id", RequestID(r.Context()), "err", err)
		}
		s.errorPage(w, e.status, "Cannot sign in", e.description)
		return
	}
	c, err := s.clients.get(r.Context(), a.ClientID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "login page client", "request_id", RequestID(r.Context()), "err", err)
		s.errorPage(w, http.StatusBadRequest, "Cannot sign in", "The application that sent you here is no longer registered.")
		return
	}
	host := a.RedirectURI
	if u, err := url.Parse(a.RedirectURI); err == nil && u.Host != "" {
		host = u.Host
	}
	setPageHeaders(w)
	err = s.pages.Login(w, web.LoginData{
		AuthRequestID: a.ID,
		ClientName:    c.Name,
		RedirectHost:  host,
		Claims:        scopeClaims(a.Scopes),
		ChainIDs:      s.cfg.ChainIDs,
		ChallengeURL:  s.path("/login/challenge"),
		VerifyURL:     s.path("/login/verify"),
		StaticURL:     s.path("/static/"),
		CancelURL:     cancelURL(a),
	})
	if err != nil {
		s.log.ErrorContext(r.Context(), "render login page", "request_id", RequestID(r.Context()), "err", err)
	}
}

// cancelURL sends the person back to the app with access_denied
// (RFC 6749 §4.1.2.1).
func cancelURL(a *storage.AuthRequest) string {
	u, err := url.Parse(a.RedirectURI)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("error", "access_denied")
	q.Set("error_description", "the person cancelled the sign-in")
	if a.State != "" {
		q.Set("state", a.State)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// decodeJSON reads a bounded JSON body into v, refusing other content types
// (which also keeps cross-site form posts out).
func decodeJSON(r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return errBadRequest("request body must be application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		return errBadRequest("request body is not valid JSON of the expected shape")
	}
	return nil
}

type loginChallengeRequest struct {
	AuthRequestID string `json:"authRequestID"`
	Address       string `json:"address"`
	ChainID       int64  `json:"chainId"`
}

type loginChallengeResponse struct {
	ChallengeID string    `json:"challengeId"`
	Message     string    `json:"message"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// handleLoginChallenge issues the message the page asks the wallet to sign.
func (s *Server) handleLoginChallenge(w http.ResponseWriter, r *http.Request) {
	var req loginChallengeRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	if !s.limit(w, r, req.Address, false) {
		return
	}
	a, err := s.pendingAuthRequest(r, req.AuthRequestID)
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	c, err := s.clients.get(r.Context(), a.ClientID)
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	if !common.IsHexAddress(req.Address) {
		s.writeLoginError(w, r, errBadRequest("address is not a valid Ethereum address"))
		return
	}
	chainID, err := s.signInChain(c, common.HexToAddress(req.Address), req.ChainID)
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	ch, err := s.siwe.Issue(r.Context(), siwe.IssueRequest{
		Address:       req.Address,
		ChainID:       chainID,
		ClientID:      a.ClientID,
		Scopes:        a.Scopes,
		AuthRequestID: a.ID,
		Statement:     statementFor(c.Name),
	})
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, loginChallengeResponse{ChallengeID: ch.ID, Message: ch.Message, ExpiresAt: ch.ExpiresAt})
}

// statementFor is the human-readable line of the SIWE message (EIP-4361
// statement: no newlines).
func statementFor(clientName string) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, clientName)
	return "Sign in to " + name + " with your Ethereum account."
}

type loginVerifyRequest struct {
	AuthRequestID string `json:"authRequestID"`
	ChallengeID   string `json:"challengeId"`
	Signature     string `json:"signature"`
}

// handleLoginVerify checks the signature, completes the authorization
// request and tells the page where to go next (zitadel's callback, which
// redirects to the app with code, state and iss).
func (s *Server) handleLoginVerify(w http.ResponseWriter, r *http.Request) {
	var req loginVerifyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	if !s.limit(w, r, "", false) {
		return
	}
	if req.ChallengeID == "" || req.AuthRequestID == "" || req.Signature == "" {
		s.writeLoginError(w, r, errBadRequest("authRequestID, challengeId and signature are required"))
		return
	}
	if _, err := s.pendingAuthRequest(r, req.AuthRequestID); err != nil {
		s.metrics.Login("browser", "rejected")
		s.writeLoginError(w, r, err)
		return
	}
	ch, err := s.siwe.Challenge(r.Context(), req.ChallengeID)
	if errors.Is(err, siwe.ErrChallengeNotFound) {
		s.metrics.Login("browser", "rejected")
		s.writeLoginError(w, r, oidc.ErrInvalidGrant().WithDescription("unknown challenge; ask for a new one"))
		return
	}
	if err != nil {
		s.writeLoginError(w, r, err)
		return
	}
	res, err := s.verify(r, ch.Message, req.Signature, siwe.Expect{Challenge: ch, AuthRequestID: req.AuthRequestID})
	if err != nil {
		s.metrics.Login("browser", "rejected")
		s.writeLoginError(w, r, err)
		return
	}
	login := s.newLogin(r.Context(), res, []string{"pop"})
	if err := s.db.CompleteAuthRequest(r.Context(), req.AuthRequestID, login); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			err = oidc.ErrInvalidRequest().WithDescription("this sign-in request expired or was already completed; start again from the app")
		}
		s.metrics.Login("browser", "rejected")
		s.writeLoginError(w, r, err)
		return
	}
	s.metrics.Login("browser", "success")
	writeJSON(w, http.StatusOK, map[string]string{"redirect": zop.AuthCallbackURL(s.provider)(r.Context(), req.AuthRequestID)})
}

// verify runs the SIWE verifier and records its latency.
func (s *Server) verify(r *http.Request, message, signature string, expect siwe.Expect) (*siwe.Result, error) {
	start := time.Now()
	res, err := s.siwe.Verify(r.Context(), message, signature, expect)
	s.metrics.ObserveVerify(time.Since(start))
	return res, err
}

// newLogin turns a verified signature into the login record tokens refer to.
// When the app asked for the profile and a name resolver is configured, the
// account's primary ENS name is looked up once, here; a lookup that fails
// leaves the address as the username.
func (s *Server) newLogin(ctx context.Context, res *siwe.Result, amr []string) *storage.Login {
	now := s.now()
	signer := ""
	if res.Signer != res.Address {
		signer = res.Signer.Hex()
	}
	var name string
	if s.names != nil && slices.Contains(res.Challenge.Scopes, oidc.ScopeProfile) {
		n, err := s.names.Name(ctx, res.Address)
		if err != nil {
			s.log.WarnContext(ctx, "ENS lookup failed; using the address as username", "request_id", RequestID(ctx), "err", err)
		}
		name = n
	}
	return &storage.Login{
		ID:        siwe.OrderedID(now, randomID(18)),
		Name:      name,
		Subject:   Subject(res.ChainID, res.Address),
		Address:   res.Address.Hex(),
		ChainID:   res.ChainID,
		Signer:    signer,
		Message:   res.Message,
		Signature: res.SignatureHex,
		AMR:       amr,
		AuthTime:  now,
		ExpiresAt: now.Add(s.cfg.AuthRequestTTL),
	}
}

// loginWords rewrites the verifier's terse descriptions into sentences for
// the person in front of the login page (the headless APIs keep the terse
// ones, which programs match on).
var loginWords = []struct{ contains, say string }{
	{"does not match the address", "The signature came from a different account than the one you connected. Switch to that account in your wallet and try again."},
	{"challenge expired", "The sign-in message expired before it was signed. Try again to get a fresh one."},
	{"already used", "This sign-in message was already used. Try again to get a fresh one."},
	{"signature must be 65 bytes", "Your wallet returned a signature Signet cannot read. Try again, or use another wallet."},
	{"recovery id", "Your wallet returned a signature Signet cannot read. Try again, or use another wallet."},
	{"not a valid secp256k1 signature", "Your wallet returned a signature Signet cannot read. Try again, or use another wallet."},
	{"signature is not hex", "Your wallet returned a signature Signet cannot read. Try again, or use another wallet."},
	{"need an RPC endpoint", "This looks like a smart-contract wallet, which this server cannot check on this network. Sign in with a regular account."},
	{"contract wallet rejected", "Your smart-contract wallet did not approve this signature."},
	{"did not answer", "Signet could not reach the network to check your smart-contract wallet. Try again in a moment."},
	{"is not allowed", "Your wallet is on a network this app does not accept. Switch networks and try again."},
	{"not a valid Ethereum address", "Your wallet gave an address Signet cannot read. Try another account or wallet."},
}

// writeLoginError answers the login page's JSON calls: the OAuth error with
// a description written for a person.
func (s *Server) writeLoginError(w http.ResponseWriter, r *http.Request, err error) {
	e, clientFault := toAPIError(err)
	if !clientFault {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", RequestID(r.Context()), "path", r.URL.Path, "err", err)
	}
	for _, lw := range loginWords {
		if strings.Contains(e.description, lw.contains) {
			e.description = lw.say
			break
		}
	}
	writeJSONError(w, e.status, e.code, e.description, false)
}
