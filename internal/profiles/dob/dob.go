package dob

import (
	"net/http"
	"strings"
	"time"

	"github.com/signet-id/signet/internal/apikeys"
	"github.com/signet-id/signet/internal/compat"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
)

// Config is what the profile works with.
type Config struct {
	compat.SignIn
	// Keys checks the Bearer token of the key endpoints and spends their
	// budget; its Keys make, list, revoke and rotate the keys.
	Keys *apikeys.API
	// Now is the clock of the answers' expires_at; nil: time.Now.
	Now func() time.Time
}

// Profile serves the dob profile for the client compat.Router found; use [New].
type Profile struct {
	cfg Config
}

// New returns the profile's handler.
func New(cfg Config) *Profile {
	cfg.SignIn = cfg.SignIn.WithDefaults()
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Profile{cfg: cfg}
}

// Paths below the client's base URL (Dob's, under its /api/agent/auth).
const (
	pathNonce  = "/api/agent/auth/nonce"
	pathVerify = "/api/agent/auth/verify"
	pathKeys   = "/api/agent/auth/keys"
)

// ServeHTTP routes a request below the client's base URL.
func (p *Profile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	rest, isKey := strings.CutPrefix(path, pathKeys+"/")
	id, action, _ := strings.Cut(rest, "/")
	switch {
	case path == pathNonce:
		p.only(w, r, http.MethodPost, p.nonce)
	case path == pathVerify:
		p.only(w, r, http.MethodPost, p.verify)
	case path == pathKeys && r.Method == http.MethodGet:
		p.listKeys(w, r)
	case path == pathKeys:
		p.only(w, r, http.MethodPost, p.createKey)
	case isKey && id != "" && action == "" && !strings.Contains(rest, "/"):
		p.only(w, r, http.MethodDelete, func(w http.ResponseWriter, r *http.Request) { p.revokeKey(w, r, id) })
	case isKey && id != "" && action == "rotate":
		p.only(w, r, http.MethodPost, func(w http.ResponseWriter, r *http.Request) { p.rotateKey(w, r, id) })
	default:
		fail(w, http.StatusNotFound, codeNotFound, "The requested resource does not exist.")
	}
}

// only serves r with h when it has the method; else 405 with Allow.
func (p *Profile) only(w http.ResponseWriter, r *http.Request, method string, h http.HandlerFunc) {
	if r.Method != method {
		allow := method
		if r.URL.Path == pathKeys {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
		fail(w, http.StatusMethodNotAllowed, codeMethod, "Use "+allow+" here.")
		return
	}
	h(w, r)
}

// allow spends the caller's budgets (and, for a valid wallet, the caller's
// budget for it); when one is spent it answers 429.
func (p *Profile) allow(w http.ResponseWriter, r *http.Request, wallet string) bool {
	ok, wait := p.cfg.Limits.Allow(r, signin.RateKey(wallet))
	if !ok {
		tooMany(w, wait)
	}
	return ok
}

type nonceRequest struct {
	WalletAddress string `json:"wallet_address"`
}

type nonceData struct {
	Nonce     string `json:"nonce"`
	Message   string `json:"message"`
	ExpiresAt string `json:"expires_at"`
}

// nonce is POST /api/agent/auth/nonce: a new challenge for the wallet,
// listed as its open challenge at this client.
func (p *Profile) nonce(w http.ResponseWriter, r *http.Request) {
	var req nonceRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if !p.allow(w, r, req.WalletAddress) {
		return
	}
	if req.WalletAddress == "" {
		fail(w, http.StatusBadRequest, codeValidation, "wallet_address is required")
		return
	}
	cl := compat.Client(r.Context())
	ch, err := p.cfg.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{
		ClientID: cl.ID, Address: req.WalletAddress, Stellar: true, ByAccount: true,
		// The token manages keys, which get only scopes it carries.
		Scope: strings.Join(cl.APIScopes(), " "),
	})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	ok(w, http.StatusOK, nonceData{Nonce: ch.Nonce, Message: ch.Message, ExpiresAt: timestamp(ch.ExpiresAt)})
}

type verifyRequest struct {
	WalletAddress string `json:"wallet_address"`
	Signature     string `json:"signature"`
	Chain         string `json:"chain"`
}

type verifyData struct {
	Token         string `json:"token"`
	ExpiresAt     string `json:"expires_at"`
	WalletAddress string `json:"wallet_address"`
}

// verify is POST /api/agent/auth/verify: the signature over the wallet's
// open challenge at this client earns a token.
func (p *Profile) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.refuse(w, r, err)
		return
	}
	if !p.allow(w, r, "") {
		return
	}
	if req.WalletAddress == "" || req.Signature == "" {
		fail(w, http.StatusBadRequest, codeValidation, "wallet_address and signature are required")
		return
	}
	wallet, isStellar, err := signin.ParseAccount(req.WalletAddress)
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	if msg := checkChain(req.Chain, isStellar); msg != "" {
		fail(w, http.StatusBadRequest, codeValidation, msg)
		return
	}
	now := p.cfg.Now()
	resp, err := p.cfg.Core.RedeemOpen(r.Context(), signin.OpenRequest{
		Flow: "dob", ClientID: compat.Client(r.Context()).ID, Account: wallet, Signature: req.Signature,
	})
	if err != nil {
		p.refuse(w, r, err)
		return
	}
	expires := now.Add(time.Duration(resp.ExpiresIn) * time.Second)
	ok(w, http.StatusOK, verifyData{Token: resp.AccessToken, ExpiresAt: timestamp(expires), WalletAddress: wallet})
}

// checkChain is what is wrong with verify's chain for a wallet of the
// given kind: it names the wallet's blockchain, "evm" or "stellar", or is
// absent; "" when nothing is.
func checkChain(chain string, isStellar bool) string {
	switch {
	case chain != "" && chain != "evm" && chain != "stellar":
		return "chain must be evm or stellar"
	case chain == "evm" && isStellar:
		return "wallet_address is a Stellar account, not an EVM one (chain: stellar)"
	case chain == "stellar" && !isStellar:
		return "wallet_address is an EVM address, not a Stellar account (chain: evm)"
	}
	return ""
}

// timestamp writes an instant as Dob's answers do: RFC 3339 in UTC, to the second.
func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
