package resource

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
)

// Introspect asks Signet whether a token or API key is active (RFC 7662
// §2). Answers are cached by the credential's SHA-256: an active one for
// CacheTTL but not past its exp, an inactive one for NegativeTTL; a failure
// to ask is never cached.
func (v *Verifier) Introspect(ctx context.Context, token string) (*Principal, error) {
	if v.cfg.ClientID == "" {
		return nil, invalid("this service does not accept API keys or opaque tokens", nil)
	} else if token == "" {
		return nil, invalid("the credential is empty", nil)
	}
	sum, now := sha256.Sum256([]byte(token)), v.cfg.Now()
	v.mu.Lock()
	e, ok := v.cache[sum]
	v.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.principal()
	}
	e.p, e.err = v.introspect(ctx, token)
	var refusal *Error
	if errors.As(e.err, &refusal) && refusal.Status == http.StatusServiceUnavailable {
		return nil, e.err
	}
	e.until = now.Add(v.cfg.NegativeTTL)
	if e.err == nil {
		e.until = now.Add(v.cfg.CacheTTL)
		if !e.p.Expiry.IsZero() && e.p.Expiry.Before(e.until) {
			e.until = e.p.Expiry
		}
	}
	v.mu.Lock()
	delete(v.cache, sum)
	for k := range v.cache { // full: one arbitrary answer goes
		if len(v.cache) < v.cfg.CacheSize {
			break
		}
		delete(v.cache, k)
	}
	v.cache[sum] = e
	v.mu.Unlock()
	return e.principal()
}

// entry is a cached introspection answer.
type entry struct {
	p     *Principal
	err   error
	until time.Time
}

// principal returns a copy of the answer, so no caller changes the cache's.
func (e entry) principal() (*Principal, error) {
	if e.err != nil {
		return nil, e.err
	}
	p := *e.p
	p.Scopes = slices.Clone(p.Scopes)
	return &p, nil
}

// introspect POSTs the token to the discovered introspection_endpoint and
// accepts an active answer (RFC 7662 §2.2) that has not expired, names no
// other issuer, and is for one of the audiences by its client_id or aud
// (RFC 7662 §4: the resource decides whether a token is meant for it).
func (v *Verifier) introspect(ctx context.Context, token string) (*Principal, error) {
	d, err := v.discover(ctx)
	if err == nil && d.Introspection == "" {
		err = errors.New("discovery names no introspection_endpoint")
	}
	var a struct {
		Active   bool             `json:"active"`
		Subject  string           `json:"sub"`
		Scope    string           `json:"scope"`
		ClientID string           `json:"client_id"`
		Expiry   *jwt.NumericDate `json:"exp"`
		Issuer   string           `json:"iss"`
		Audience jwt.Audience     `json:"aud"`
		APIKeyID string           `json:"api_key_id"`
	}
	if err == nil {
		err = v.fetch(ctx, d.Introspection, url.Values{"token": {token}}, &a)
	}
	if err != nil {
		return nil, unavailable(err)
	}
	mine := func(aud string) bool { return slices.Contains(v.cfg.Audiences, aud) }
	switch {
	case !a.Active:
		return nil, invalid("the credential is not active", nil)
	case a.Expiry != nil && v.cfg.Now().Add(-v.cfg.Skew).After(a.Expiry.Time()):
		return nil, invalid("the credential has expired", nil)
	case a.Issuer != "" && a.Issuer != v.cfg.Issuer:
		return nil, invalid("the credential was issued by another issuer", nil)
	case !mine(a.ClientID) && !slices.ContainsFunc(a.Audience, mine):
		return nil, invalid("the credential is not meant for this service", nil)
	}
	var exp time.Time
	if a.Expiry != nil {
		exp = a.Expiry.Time()
	}
	return newPrincipal(a.Subject, a.ClientID, a.Scope, a.APIKeyID, exp)
}
