package defimara

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
)

// Config is what the profile works with.
type Config = compat.SignIn

// Profile serves the defimara profile for the client compat.Router found;
// use [New].
type Profile struct {
	cfg Config
}

// New returns the profile's handler.
func New(cfg Config) *Profile {
	return &Profile{cfg: cfg.WithDefaults()}
}

// routes are the profile's endpoints, by path and method.
var routes = map[string]string{
	"/auth/challenge": http.MethodGet,
	"/auth/verify":    http.MethodPost,
}

// ServeHTTP routes a request below the client's base URL.
func (p *Profile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, known := routes[r.URL.Path]
	switch {
	case !known:
		fail(w, http.StatusNotFound, "Not found")
	case r.Method != method:
		w.Header().Set("Allow", method)
		fail(w, http.StatusMethodNotAllowed, "Method not allowed")
	case r.URL.Path == "/auth/challenge":
		p.challenge(w, r)
	default:
		p.verify(w, r)
	}
}

// challenge is GET /auth/challenge?address=0x….
func (p *Profile) challenge(w http.ResponseWriter, r *http.Request) {
	address := r.URL.Query().Get("address")
	if !p.allow(w, r, address) {
		return
	}
	switch {
	case address == "":
		fail(w, http.StatusBadRequest, "address is required")
		return
	case !common.IsHexAddress(address):
		fail(w, http.StatusBadRequest, "address is not a valid Ethereum address")
		return
	}
	ch, err := p.cfg.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{ClientID: compat.Client(r.Context()).ID, Address: address})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"challenge": ch.Message})
}

type verifyRequest struct {
	Address   string `json:"address"`
	Challenge string `json:"challenge"`
	Signature string `json:"signature"`
}

// tokenResponse is DeFiMara's answer to a verified sign-in.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   uint64 `json:"expires_in"`
}

// verify is POST /auth/verify: the challenge's text comes back with its
// signature and the address the agent signs in as.
func (p *Profile) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if !p.allow(w, r, "") {
		return
	}
	switch {
	case req.Address == "" || req.Challenge == "" || req.Signature == "":
		fail(w, http.StatusBadRequest, "address, challenge and signature are required")
		return
	case !common.IsHexAddress(req.Address):
		fail(w, http.StatusBadRequest, "address is not a valid Ethereum address")
		return
	}
	if signed, ok := messageAddress(req.Challenge); !ok || signed != common.HexToAddress(req.Address) {
		fail(w, http.StatusUnauthorized, "challenge was not issued for this address")
		return
	}
	resp, err := p.cfg.Core.Redeem(r.Context(), signin.RedeemRequest{
		Flow: "defimara", Message: req.Challenge, Signature: req.Signature, Profile: true,
		Expect: siwe.Expect{ClientID: compat.Client(r.Context()).ID},
	})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	w.Header().Set("Pragma", "no-cache")
	httpapi.WriteJSON(w, http.StatusOK, tokenResponse{AccessToken: resp.AccessToken, TokenType: "Bearer", ExpiresIn: resp.ExpiresIn})
}

// messageAddress reads the account an EIP-4361 message signs in: its whole
// second line (EIP-4361 "Message Format": "${domain} wants you to sign in
// with your Ethereum account:\n${address}\n"). The core then requires the
// message, fully parsed, to name the challenge's account, so that an
// address read here that agrees with the request's binds the request to
// the challenge.
func messageAddress(message string) (common.Address, bool) {
	lines := strings.SplitN(message, "\n", 3)
	if len(lines) < 3 || !common.IsHexAddress(lines[1]) || !strings.HasPrefix(lines[1], "0x") {
		return common.Address{}, false
	}
	return common.HexToAddress(lines[1]), true
}

// allow spends the caller's budgets (and, for a valid address, the
// caller's budget for it); when one is spent it answers 429.
func (p *Profile) allow(w http.ResponseWriter, r *http.Request, address string) bool {
	if common.IsHexAddress(address) {
		address = common.HexToAddress(address).Hex()
	} else {
		address = ""
	}
	ok, wait := p.cfg.Limits.Allow(r, address)
	if !ok {
		tooMany(w, wait)
	}
	return ok
}

// tooMany answers a spent budget (SPEC "Errors": 429 with Retry-After).
func tooMany(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(httpapi.RetryAfter(wait)))
	fail(w, http.StatusTooManyRequests, "Too many requests")
}

// fail writes the profile's error envelope.
func fail(w http.ResponseWriter, status int, words string) {
	httpapi.WriteJSON(w, status, map[string]string{"error": words})
}

// refuse answers a failed request: a refused challenge or signature
// (invalid_grant), or a challenge text that is no EIP-4361 message, is 401;
// other client errors keep their status; Signet's own failures are logged
// and answered in generic words.
func (p *Profile) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	httpapi.Log(p.cfg.Log, r, e)
	switch {
	case e.Status == http.StatusServiceUnavailable:
		fail(w, e.Status, "Temporarily unavailable: "+e.Description)
	case !e.ClientFault():
		fail(w, http.StatusInternalServerError, "Internal server error")
	case e.Code == "invalid_grant" || e.Check == siwe.CheckMessage:
		fail(w, http.StatusUnauthorized, e.Description)
	default:
		fail(w, e.Status, e.Description)
	}
}
