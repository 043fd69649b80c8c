package reppo

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
)

// Config is what the profile works with.
type Config = compat.SignIn

// Profile serves the reppo profile for the client compat.Router found; use
// [New].
type Profile struct {
	cfg Config
}

// New returns the profile's handler.
func New(cfg Config) *Profile {
	return &Profile{cfg: cfg.WithDefaults()}
}

// ServeHTTP routes a request below the client's base URL: both endpoints
// are POST.
func (p *Profile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/auth/nonce" && r.URL.Path != "/auth/verify":
		fail(w, http.StatusNotFound, "Not found")
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "Method not allowed")
	case r.URL.Path == "/auth/nonce":
		p.nonce(w, r)
	default:
		p.verify(w, r)
	}
}

type nonceRequest struct {
	WalletAddress string `json:"walletAddress"`
}

// nonce is POST /auth/nonce.
func (p *Profile) nonce(w http.ResponseWriter, r *http.Request) {
	var req nonceRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if !p.allow(w, r, req.WalletAddress) {
		return
	}
	if !isAddress(req.WalletAddress) {
		fail(w, http.StatusBadRequest, "Missing or malformed walletAddress")
		return
	}
	ch, err := p.cfg.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{ClientID: compat.Client(r.Context()).ID, Address: req.WalletAddress})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"nonce": ch.ID, "message": ch.Message})
}

type verifyRequest struct {
	WalletAddress string `json:"walletAddress"`
	Signature     string `json:"signature"`
	Nonce         string `json:"nonce"`
}

// verify is POST /auth/verify: the nonce names the challenge whose text
// was signed.
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
	case req.WalletAddress == "" || req.Signature == "" || req.Nonce == "":
		fail(w, http.StatusBadRequest, "walletAddress, signature and nonce are required")
		return
	case !isAddress(req.WalletAddress):
		fail(w, http.StatusBadRequest, "Malformed walletAddress")
		return
	}
	ch, err := p.cfg.Core.Challenge(r.Context(), req.Nonce)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	if ch.Address != common.HexToAddress(req.WalletAddress) {
		fail(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	resp, err := p.cfg.Core.Redeem(r.Context(), signin.RedeemRequest{
		Flow: "reppo", Message: ch.Message, Signature: req.Signature, Profile: true,
		Expect: siwe.Expect{Challenge: ch, ClientID: compat.Client(r.Context()).ID},
	})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"token": resp.AccessToken, "walletAddress": strings.ToLower(ch.Address.Hex())})
}

// isAddress is Reppo's address pattern, ^0x[a-fA-F0-9]{40}$.
func isAddress(s string) bool {
	return strings.HasPrefix(s, "0x") && len(s) == 2+2*common.AddressLength && common.IsHexAddress(s)
}

// allow spends the caller's budgets (and, for a valid address, the
// caller's budget for it); when one is spent it answers 429.
func (p *Profile) allow(w http.ResponseWriter, r *http.Request, address string) bool {
	if isAddress(address) {
		address = common.HexToAddress(address).Hex()
	} else {
		address = ""
	}
	ok, wait := p.cfg.Limits.Allow(r, address)
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(httpapi.RetryAfter(wait)))
		fail(w, http.StatusTooManyRequests, "Too many requests")
	}
	return ok
}

// fail writes Reppo's error envelope.
func fail(w http.ResponseWriter, status int, words string) {
	httpapi.WriteJSON(w, status, map[string]string{"error": words})
}

// refuse answers a failed request: a refused nonce or signature
// (invalid_grant, or a client the core does not know) is 401 Unauthorized,
// as Reppo answers every authentication failure; other client errors keep
// their status and words; Signet's own failures are logged and answered in
// generic words.
func (p *Profile) refuse(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	httpapi.Log(p.cfg.Log, r, e)
	switch {
	case e.Status == http.StatusServiceUnavailable:
		fail(w, e.Status, "Temporarily unavailable: "+e.Description)
	case !e.ClientFault():
		fail(w, http.StatusInternalServerError, "Internal server error")
	case e.Code == "invalid_grant" || e.Status == http.StatusUnauthorized:
		fail(w, http.StatusUnauthorized, "Unauthorized")
	default:
		fail(w, e.Status, e.Description)
	}
}
