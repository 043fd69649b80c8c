package resource

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/internal/clocktest"
)

// fakeIssuer serves discovery, a JWKS and an introspection endpoint whose
// answers a test sets, and counts the requests to each.
type fakeIssuer struct {
	*httptest.Server
	key *rsa.PrivateKey

	mu         sync.Mutex
	issuer     string            // the discovery document's issuer
	jwksURI    string            // the discovery document's jwks_uri
	jwksStatus int               // the JWKS endpoint's status
	jwksPad    int               // spaces before the JWKS
	jwks       []jose.JSONWebKey // what the JWKS endpoint serves
	answers    map[string]any    // introspection answers by token; none → 500
	hits       map[string]int
}

const fakeClient, fakeSecret = "api client:1", "s3cret&=%"

func newFakeIssuer(t *testing.T) *fakeIssuer {
	t.Helper()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	f := &fakeIssuer{key: key, jwksStatus: http.StatusOK, answers: map[string]any{}, hits: map[string]int{}}
	f.jwks = []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	f.issuer, f.jwksURI = f.URL, f.URL+"/keys"
	return f
}

func (f *fakeIssuer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[r.URL.Path]++
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": f.issuer, "jwks_uri": f.jwksURI, "introspection_endpoint": f.URL + "/introspect"})
	case "/keys":
		w.WriteHeader(f.jwksStatus)
		_, _ = w.Write([]byte(strings.Repeat(" ", f.jwksPad)))
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: f.jwks})
	case "/introspect":
		// RFC 6749 §2.3.1: Basic credentials form-encoded.
		id, secret, _ := r.BasicAuth()
		answer, ok := f.answers[r.PostFormValue("token")]
		if id != url.QueryEscape(fakeClient) || secret != url.QueryEscape(fakeSecret) || !ok {
			http.Error(w, "internal failure: db down", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(answer)
	}
}

func (f *fakeIssuer) set(change func(f *fakeIssuer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeIssuer) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[path]
}

func (f *fakeIssuer) verifier(t *testing.T, clock *clocktest.Clock, mutate ...func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{Issuer: f.URL, Audiences: []string{fakeClient}, ClientID: fakeClient, ClientSecret: fakeSecret, Now: clock.Now}
	for _, m := range mutate {
		m(&cfg)
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// token is an access token of the fake issuer signed by its key k1.
func (f *fakeIssuer) token(t *testing.T, now time.Time) string {
	return mint(t, f.key, jose.RS256, "k1", "at+jwt", map[string]any{"iss": f.URL, "aud": fakeClient, "sub": "eip155:1:0xAb", "client_id": fakeClient,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()})
}

func active(now time.Time, exp time.Duration) map[string]any {
	return map[string]any{"active": true, "sub": "eip155:137:0xAb", "scope": "read write", "client_id": fakeClient, "exp": now.Add(exp).Unix(), "api_key_id": "key-7"}
}

// TestIntrospectionCache: an active answer is reused for CacheTTL but not
// past its exp, an inactive one for NegativeTTL, a failure never; the
// cache holds at most CacheSize answers.
func TestIntrospectionCache(t *testing.T) {
	f := newFakeIssuer(t)
	now := time.Now()
	clock := clocktest.New(now)
	v := f.verifier(t, clock, func(c *Config) { c.CacheSize = 3 })
	f.set(func(f *fakeIssuer) {
		f.answers["good"], f.answers["short"], f.answers["gone"] = active(now, time.Hour), active(now, 3*time.Second), map[string]any{"active": false}
	})
	ask := func(key string, status, hits int) {
		t.Helper()
		w := call(v.Require(), "X-API-Key", key)
		if w.Code != status || f.count("/introspect") != hits {
			t.Fatalf("%s: %d %s after %d introspections; want %d after %d", key, w.Code, w.Body, f.count("/introspect"), status, hits)
		}
	}
	ask("good", 200, 1)
	ask("gone", 401, 2)
	ask("gone", 401, 2) // NegativeTTL (2 s) is not over
	ask("short", 200, 3)
	ask("broken", 503, 4) // no answer: 500
	ask("broken", 503, 5) // a failure is not cached
	clock.Advance(2 * time.Second)
	ask("good", 200, 5)
	ask("gone", 401, 6) // NegativeTTL (2 s) is over
	clock.Advance(time.Second)
	ask("short", 200, 7) // its exp came before CacheTTL
	clock.Advance(6 * time.Second)
	ask("good", 200, 7)
	clock.Advance(time.Second)
	ask("good", 200, 8) // CacheTTL (10 s) is over
	p, _ := v.Introspect(t.Context(), "good")
	p.Scopes[0] = "admin"
	if p, _ := v.Introspect(t.Context(), "good"); p.Scopes[0] != "read" {
		t.Fatalf("a caller changed the cached answer: %v", p.Scopes)
	}

	f.set(func(f *fakeIssuer) {
		for _, k := range []string{"a", "b", "c", "d", "e"} {
			f.answers[k] = active(now, time.Hour)
		}
	})
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		call(v.Require(), "X-API-Key", k)
	}
	if n := len(v.cache); n > 3 {
		t.Fatalf("cache holds %d entries, CacheSize is 3", n)
	}
}

// TestIntrospectionAnswers: what an active answer must say to be taken,
// and what the Principal gets from it.
func TestIntrospectionAnswers(t *testing.T) {
	f := newFakeIssuer(t)
	now := time.Now()
	v := f.verifier(t, clocktest.New(now))
	with := func(change func(map[string]any)) map[string]any {
		a := active(now, time.Hour)
		change(a)
		return a
	}
	cases := map[string]struct {
		answer map[string]any
		want   string // "" for accepted
	}{
		"active":                       {active(now, time.Hour), ""},
		"aud names us, client another": {with(func(a map[string]any) { a["client_id"], a["aud"] = "other", []string{"x", fakeClient} }), ""},
		"no exp":                       {with(func(a map[string]any) { delete(a, "exp") }), ""},
		"inactive":                     {with(func(a map[string]any) { a["active"] = false }), "not active"},
		"another client":               {with(func(a map[string]any) { a["client_id"] = "other" }), "not meant for this service"},
		"another client and aud":       {with(func(a map[string]any) { a["client_id"], a["aud"] = "other", "other" }), "not meant for this service"},
		"another issuer":               {with(func(a map[string]any) { a["iss"] = "https://evil.example" }), "another issuer"},
		"expired beyond the skew":      {with(func(a map[string]any) { a["exp"] = now.Add(-31 * time.Second).Unix() }), "expired"},
		"sub not CAIP-10":              {with(func(a map[string]any) { a["sub"] = "0xAb" }), "CAIP-10"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f.set(func(f *fakeIssuer) { f.answers[name] = c.answer })
			w := call(v.Require(), "X-API-Key", name)
			if c.want != "" {
				refused(t, w, http.StatusUnauthorized, CodeInvalidToken, c.want)
				return
			}
			var p Principal
			_ = json.Unmarshal(w.Body.Bytes(), &p)
			if w.Code != 200 || p.Subject != "eip155:137:0xAb" || p.Address != "0xAb" || p.APIKeyID != "key-7" || !p.HasScope("write") {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
		})
	}
}

// TestSignetUnreachable: a JWKS that fails is a 503 whose answer says
// nothing of the cause; it is tried again after RefetchInterval, and a set
// fetched before keeps serving its kids while the JWKS fails.
func TestSignetUnreachable(t *testing.T) {
	f := newFakeIssuer(t)
	clock := clocktest.New(time.Now())
	v := f.verifier(t, clock)
	token := f.token(t, clock.Now())
	f.set(func(f *fakeIssuer) { f.jwksStatus = http.StatusInternalServerError })
	w := call(v.Require(), bearer(token)...)
	refused(t, w, http.StatusServiceUnavailable, CodeUnavailable, "cannot be checked now")
	if strings.Contains(w.Body.String(), "500") || strings.Contains(w.Body.String(), f.URL) || w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("503 answer leaks or lacks headers: %v %s", w.Header(), w.Body)
	}
	refused(t, call(v.Require(), bearer(token)...), http.StatusServiceUnavailable, CodeUnavailable, "cannot be checked now")
	if n := f.count("/keys"); n != 1 {
		t.Fatalf("%d JWKS fetches within the interval, want 1", n)
	}
	f.set(func(f *fakeIssuer) { f.jwksStatus = http.StatusOK })
	clock.Advance(10 * time.Second)
	if w := call(v.Require(), bearer(token)...); w.Code != 200 {
		t.Fatalf("JWKS back: %d %s", w.Code, w.Body)
	}

	// KeysMaxAge: a stale set is fetched again; while that fails, its kids
	// still verify; once Signet withdraws a key, its tokens stop verifying.
	f.set(func(f *fakeIssuer) { f.jwksStatus = http.StatusInternalServerError })
	clock.Advance(15 * time.Minute)
	token = f.token(t, clock.Now())
	if w := call(v.Require(), bearer(token)...); w.Code != 200 || f.count("/keys") != 3 {
		t.Fatalf("stale set while the JWKS fails: %d %s after %d fetches", w.Code, w.Body, f.count("/keys"))
	}
	f.set(func(f *fakeIssuer) { f.jwksStatus, f.jwks = http.StatusOK, nil })
	clock.Advance(10 * time.Second)
	refused(t, call(v.Require(), bearer(token)...), http.StatusUnauthorized, CodeInvalidToken, "signing key is unknown")

	// An answer is read up to 1 MiB.
	f.set(func(f *fakeIssuer) {
		f.jwks, f.jwksPad = []jose.JSONWebKey{{Key: &f.key.PublicKey, KeyID: "k1"}}, 1<<20
	})
	clock.Advance(10 * time.Second)
	refused(t, call(v.Require(), bearer(token)...), http.StatusServiceUnavailable, CodeUnavailable, "cannot be checked")
}

// TestDiscoveryChecks: a discovery document naming another issuer
// (OpenID Connect Discovery 1.0 §4.3) or a plain-http key set is refused.
func TestDiscoveryChecks(t *testing.T) {
	for name, change := range map[string]func(*fakeIssuer){
		"another issuer":    func(f *fakeIssuer) { f.issuer = "https://evil.example" },
		"issuer with slash": func(f *fakeIssuer) { f.issuer += "/" },
		"plain-http remote": func(f *fakeIssuer) { f.jwksURI = "http://keys.example/keys" },
		"no jwks_uri":       func(f *fakeIssuer) { f.jwksURI = "" },
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeIssuer(t)
			f.set(change)
			clock := clocktest.New(time.Now())
			// Every host is the fake issuer, so only the check stops a fetch.
			v := f.verifier(t, clock, func(c *Config) { c.HTTPClient = &http.Client{Transport: toHost(f.Listener.Addr().String())} })
			refused(t, call(v.Require(), bearer(f.token(t, clock.Now()))...), http.StatusServiceUnavailable, CodeUnavailable, "cannot be checked")
			if f.count("/keys") != 0 {
				t.Fatal("fetched keys named by a refused discovery document")
			}
		})
	}
}

// toHost sends every request to host.
type toHost string

func (h toHost) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host = string(h)
	return http.DefaultTransport.RoundTrip(r)
}

// TestCredentialShapes: how the request's credential is found (RFC 6750
// §2.1, §3.1).
func TestCredentialShapes(t *testing.T) {
	f := newFakeIssuer(t)
	clock := clocktest.New(time.Now())
	token := f.token(t, clock.Now())
	f.set(func(f *fakeIssuer) { f.answers["opaque"] = active(clock.Now(), time.Hour) })
	v := f.verifier(t, clock, func(c *Config) { c.Opaque = true })
	for name, headers := range map[string][]string{"none": nil, "Basic": {"Authorization", "Basic YTpi"}} {
		w := call(v.Require(), headers...)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer realm="api"` || !strings.Contains(w.Body.String(), `"invalid_token"`) {
			t.Errorf("%s: %d %q %s (RFC 6750 §3.1: no error code without a credential)", name, w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
		}
	}
	refused(t, call(v.Require(), "Authorization", "Bearer "+token, "X-API-Key", "opaque"), 400, CodeInvalidRequest, "one credential")
	refused(t, call(v.Require(), "X-API-Key", "opaque", "X-API-Key", "opaque"), 400, CodeInvalidRequest, "one credential")
	if w := call(v.Require(), "Authorization", "bearer "+token); w.Code != 200 || f.count("/introspect") != 0 {
		t.Fatalf("JWT with a lowercase scheme: %d %s, %d introspections", w.Code, w.Body, f.count("/introspect"))
	}
	if w := call(v.Require(), bearer("opaque")...); w.Code != 200 || f.count("/introspect") != 1 {
		t.Fatalf("opaque Bearer token: %d %s, %d introspections", w.Code, w.Body, f.count("/introspect"))
	}
	refused(t, call(v.Require(), "Authorization", "Bearer "), 401, CodeInvalidToken, "empty")
	offline := f.verifier(t, clock, func(c *Config) { c.ClientID, c.ClientSecret = "", "" })
	refused(t, call(offline.Require(), "X-API-Key", "opaque"), 401, CodeInvalidToken, "does not accept API keys")
	refused(t, call(offline.Require(), bearer("opaque")...), 401, CodeInvalidToken, "malformed")
}

// TestNewRefusesUnsafeConfig: no check can be turned off by leaving a
// field empty.
func TestNewRefusesUnsafeConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no issuer":                 {Audiences: []string{"a"}},
		"plain http":                {Issuer: "http://signet.example", Audiences: []string{"a"}},
		"relative issuer":           {Issuer: "signet.example", Audiences: []string{"a"}},
		"no audience":               {Issuer: "https://signet.example"},
		"empty audience":            {Issuer: "https://signet.example", Audiences: []string{""}},
		"introspect without secret": {Issuer: "https://signet.example", Audiences: []string{"a"}, ClientID: "a", Introspect: true},
		"opaque without client":     {Issuer: "https://signet.example", Audiences: []string{"a"}, Opaque: true},
		"quote in realm":            {Issuer: "https://signet.example", Audiences: []string{"a"}, Realm: `a"b`},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	for _, issuer := range []string{"https://signet.example/tenant", "http://localhost:8080", "http://127.0.0.1:1", "http://[::1]:8080"} {
		if _, err := New(Config{Issuer: issuer, Audiences: []string{"a"}}); err != nil {
			t.Errorf("%s: %v", issuer, err)
		}
	}
}

// TestJWKSKeyFilter: only RS256 signing keys of the JWKS verify (RFC 7517
// §4.2 use, §4.4 alg).
func TestJWKSKeyFilter(t *testing.T) {
	f := newFakeIssuer(t)
	clock := clocktest.New(time.Now())
	f.set(func(f *fakeIssuer) {
		f.jwks = append(f.jwks, jose.JSONWebKey{Key: &f.key.PublicKey, KeyID: "enc", Algorithm: "RS256", Use: "enc"},
			jose.JSONWebKey{Key: &f.key.PublicKey, KeyID: "rs384", Algorithm: "RS384", Use: "sig"},
			jose.JSONWebKey{Key: &f.key.PublicKey, KeyID: "bare"})
	})
	v := f.verifier(t, clock)
	claims := map[string]any{"iss": f.URL, "aud": fakeClient, "sub": "eip155:1:0xAb", "client_id": fakeClient, "exp": clock.Now().Add(time.Hour).Unix()}
	for kid, status := range map[string]int{"k1": 200, "bare": 200, "enc": 401, "rs384": 401} {
		if w := call(v.Require(), bearer(mint(t, f.key, jose.RS256, kid, "at+jwt", claims))...); w.Code != status {
			t.Errorf("key %s: %d %s, want %d", kid, w.Code, w.Body, status)
		}
	}
}

// TestConcurrentFirstFetch: requests arriving together before any key is
// known wait for one JWKS fetch, and all pass.
func TestConcurrentFirstFetch(t *testing.T) {
	f := newFakeIssuer(t)
	clock := clocktest.New(time.Now())
	v := f.verifier(t, clock)
	token := f.token(t, clock.Now())
	var wg sync.WaitGroup
	codes := make(chan int, 20)
	for range 20 {
		wg.Go(func() { codes <- call(v.Require(), bearer(token)...).Code })
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Fatalf("status %d", c)
		}
	}
	if n := f.count("/keys"); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}
