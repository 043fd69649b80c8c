package login

import (
	"net/http"
	"time"

	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
)

type challengeRequest struct {
	AuthRequestID string `json:"authRequestID"`
	Address       string `json:"address"`
	ChainID       int64  `json:"chainId"`
}

type challengeResponse struct {
	ChallengeID string    `json:"challengeId"`
	Message     string    `json:"message"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// challenge issues the message the page asks the wallet to sign.
func (p *Page) challenge(w http.ResponseWriter, r *http.Request) {
	var req challengeRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.allow(w, r) {
		return
	}
	a, err := p.pending(r, req.AuthRequestID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	ch, err := p.Core.IssueChallenge(r.Context(), signin.ChallengeRequest{Address: req.Address, ChainID: req.ChainID, AuthRequest: a})
	if err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, challengeResponse{ChallengeID: ch.ID, Message: ch.Message, ExpiresAt: ch.ExpiresAt})
}

type verifyRequest struct {
	AuthRequestID string `json:"authRequestID"`
	ChallengeID   string `json:"challengeId"`
	Signature     string `json:"signature"`
}

// verify checks the signature, completes the authorization request and
// tells the page where to go next: the callback, which redirects to the
// app with code, state and iss.
func (p *Page) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.allow(w, r) {
		return
	}
	if req.ChallengeID == "" || req.AuthRequestID == "" || req.Signature == "" {
		p.fail(w, r, httpapi.BadRequest("authRequestID, challengeId and signature are required"))
		return
	}
	if _, err := p.pending(r, req.AuthRequestID); err != nil {
		p.fail(w, r, err)
		return
	}
	ch, err := p.Core.Challenge(r.Context(), req.ChallengeID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	next, err := p.Core.Complete(r.Context(), req.AuthRequestID, ch, req.Signature)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

type continueRequest struct {
	AuthRequestID string `json:"authRequestID"`
}

// continueSession completes the request with the browser's single sign-on
// session: one click, no new signature.
func (p *Page) continueSession(w http.ResponseWriter, r *http.Request) {
	var req continueRequest
	if err := httpapi.DecodeJSON(r, &req); err != nil {
		p.fail(w, r, err)
		return
	}
	if !p.allow(w, r) {
		return
	}
	a, err := p.pending(r, req.AuthRequestID)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if p.Sessions == nil {
		p.fail(w, r, httpapi.BadRequest("this server keeps no sessions; sign in with your wallet"))
		return
	}
	next, err := p.Sessions.ContinueSession(r.Context(), a)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

// allow spends the caller's budget; when it is spent it answers 429.
func (p *Page) allow(w http.ResponseWriter, r *http.Request) bool {
	ok, wait := p.Limits.Allow(r, "")
	if !ok {
		httpapi.WriteTooMany(w, wait, false)
	}
	return ok
}

// fail answers the page's JSON calls: the OAuth error, with a description
// written for the person in front of the page when a known check failed
// (the headless APIs keep the terse descriptions, which programs match on).
func (p *Page) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := httpapi.From(err)
	httpapi.Log(p.Log, r, e)
	desc := e.Description
	if words, ok := checkWords[e.Check]; ok {
		desc = words
	} else if e.Code == "temporarily_unavailable" {
		desc = "Signet could not reach the network to check your signature. Try again in a moment."
	}
	httpapi.WriteError(w, e.Status, e.Code, desc, false)
}

// unreadable is what the page says of a signature it cannot use.
const unreadable = "Your wallet returned a signature Signet cannot read. Try again, or use another wallet."

// checkWords says, for a person, what a failed check means and what to do.
var checkWords = map[siwe.Check]string{
	siwe.CheckSigner:         "The signature came from a different account than the one you connected. Switch to that account in your wallet and try again.",
	siwe.CheckExpired:        "The sign-in message expired before it was signed. Try again to get a fresh one.",
	siwe.CheckUsed:           "This sign-in message was already used. Try again to get a fresh one.",
	siwe.CheckSignature:      unreadable,
	siwe.CheckNoRPC:          "This looks like a smart-contract wallet, which this server cannot check on this network. Sign in with a regular account.",
	siwe.CheckContractWallet: "Your smart-contract wallet did not approve this signature.",
	siwe.CheckChain:          "Your wallet is on a network this app does not accept. Switch networks and try again.",
	siwe.CheckAddress:        "Your wallet gave an address Signet cannot read. Try another account or wallet.",
}
