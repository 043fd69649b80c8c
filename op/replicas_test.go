package op_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/storage"
)

// replica is one `signet serve` process's worth of parts: its own pool,
// key cache, limiter and handler, on a shared database.
type replica struct {
	name     string
	srv      *httptest.Server
	db       *storage.DB
	keys     *keyring.Ring
	registry *clients.Registry
}

func newReplica(t *testing.T, name, dsn, issuer string, keyClock *clocktest.Clock) *replica {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, _ := keyring.NewSealer(testSecret)
	key, err := keyring.LoadCryptoKey(ctx, db, sealer)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.New(db, sealer, keyClock.Now, 50*time.Millisecond)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	reg := clients.NewRegistry(db)
	cfg := op.DefaultConfig(issuer)
	cfg.Insecure = true
	cfg.CryptoKey = key
	s, err := op.New(cfg, op.Deps{DB: db, Registry: reg, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &replica{name: name, srv: hs, db: db, keys: keys, registry: reg}
}

// cluster is two replicas behind a balancer whose target the test picks:
// per request with the X-Replica header, else the current default.
type cluster struct {
	issuer   string
	replicas map[string]*replica
	target   atomic.Value // string
	balancer *httptest.Server
	keyClock *clocktest.Clock // the replicas' key rings run on it
}

func newCluster(t *testing.T, dsn string) *cluster {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{issuer: "http://" + ln.Addr().String(), replicas: map[string]*replica{}, keyClock: clocktest.New(time.Now())}
	c.replicas["a"] = newReplica(t, "a", dsn, c.issuer, c.keyClock)
	c.replicas["b"] = newReplica(t, "b", dsn, c.issuer, c.keyClock)
	c.target.Store("a")
	proxies := map[string]*httputil.ReverseProxy{}
	for name, r := range c.replicas {
		u, _ := url.Parse(r.srv.URL)
		proxies[name] = httputil.NewSingleHostReverseProxy(u)
	}
	c.balancer = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.Header.Get("X-Replica")
		if name == "" {
			name = c.target.Load().(string)
		}
		proxies[name].ServeHTTP(w, r)
	})}}
	c.balancer.Start()
	t.Cleanup(c.balancer.Close)
	return c
}

// use sends requests without an X-Replica header to the named replica.
func (c *cluster) use(name string) { c.target.Store(name) }

// view is a testServer whose requests go through the balancer.
func (c *cluster) view() *testServer {
	return &testServer{Server: c.balancer, Issuer: c.issuer, Registry: c.replicas["a"].registry}
}

// TestReplicasBehaveAsOne runs two Signet servers on one database, on SQLite
// and (when SIGNET_TEST_POSTGRES_DSN is set) on PostgreSQL.
func TestReplicasBehaveAsOne(t *testing.T) {
	storagetest.Backends(t, func(t *testing.T, dsn string) {
		cl := newCluster(t, dsn)
		ts := cl.view()
		conf, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect, dimoDomain}})
		w := newWallet(t)

		t.Run("challenge from A redeemed on B", func(t *testing.T) {
			cl.use("a")
			state, ch := dimoChallenge(t, ts, conf.ID, w.Address(), "openid")
			cl.use("b")
			resp, tok := dimoSubmit(t, ts, conf.ID, state, w.Sign(t, ch))
			if resp.StatusCode != 200 {
				t.Fatalf("submit on B: %d %v", resp.StatusCode, tok)
			}
		})

		t.Run("authorize on A, token on B, refresh on A, introspect on B", func(t *testing.T) {
			cl.use("a")
			app := newRP(t, ts, conf.ID, secret, oidc.ScopeOfflineAccess)
			b := browser()
			verifier := oauth2.GenerateVerifier()
			id := authorize(t, ts, b, app.config.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
			cb := signIn(t, ts, b, id, w)
			cl.use("b")
			tok, err := app.config.Exchange(app.ctx, cb.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("token on B: %v", err)
			}
			cl.use("a")
			tok.Expiry = time.Now().Add(-time.Hour)
			refreshed, err := app.config.TokenSource(app.ctx, tok).Token()
			if err != nil {
				t.Fatalf("refresh on A: %v", err)
			}
			cl.use("b")
			if got := introspect(t, ts, conf.ID, secret, refreshed.AccessToken); got["active"] != true {
				t.Fatalf("introspect on B: %v", got)
			}
			// The refresh token A consumed is dead on B too.
			_, err = app.config.TokenSource(app.ctx, tok).Token()
			tokenError(t, err, "invalid_grant")
		})

		t.Run("50 concurrent submits across replicas, one winner", func(t *testing.T) {
			cl.use("a")
			state, ch := dimoChallenge(t, ts, conf.ID, w.Address(), "openid")
			sig := w.Sign(t, ch)
			var wins atomic.Int32
			var wg sync.WaitGroup
			for i := range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodPost, ts.Issuer+"/auth/web3/submit_challenge", formBody(url.Values{
						"client_id": {conf.ID}, "client_secret": {secret}, "domain": {dimoDomain}, "grant_type": {"authorization_code"}, "state": {state}, "signature": {sig},
					}))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					req.Header.Set("X-Replica", []string{"a", "b"}[i%2])
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					switch resp.StatusCode {
					case 200:
						wins.Add(1)
					case 400:
					default:
						t.Errorf("status %d", resp.StatusCode)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d winners, want 1", wins.Load())
			}
		})

		t.Run("rotation on A is published by B; tokens of both keys verify", func(t *testing.T) {
			cl.use("b")
			app := newRP(t, ts, conf.ID, secret)
			code, v := codeFor(t, ts, app)
			before, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			cl.keyClock.Advance(time.Second)
			k, err := cl.replicas["a"].keys.Rotate(context.Background(), 0, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			cl.keyClock.Advance(time.Second) // past B's key cache refresh interval
			resp, err := http.Get(cl.replicas["b"].srv.URL + "/keys")
			if err != nil {
				t.Fatal(err)
			}
			jwks := decodeBody(t, resp)
			found := false
			for _, key := range jwks["keys"].([]any) {
				if key.(map[string]any)["kid"] == k.ID {
					found = true
				}
			}
			if !found {
				t.Fatalf("B's JWKS lacks the key rotated on A: %v", jwks)
			}
			code, v = codeFor(t, ts, app)
			after, err := app.config.Exchange(app.ctx, code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			if kidOf(t, after.AccessToken) != k.ID {
				t.Fatalf("B signs with %s, not the new key %s", kidOf(t, after.AccessToken), k.ID)
			}
			cl.use("a")
			fresh := newRP(t, ts, conf.ID, secret)
			for _, tok := range []*oauth2.Token{before, after} {
				if _, err := fresh.verifier.Verify(fresh.ctx, tok.Extra("id_token").(string)); err != nil {
					t.Fatalf("token signed by %s: %v", kidOf(t, tok.AccessToken), err)
				}
			}
		})

		t.Run("scheduled rotation is done by one replica", func(t *testing.T) {
			// The current key becomes due; the one that replaces it is not.
			cl.keyClock.Advance(2 * time.Hour)
			var rotated atomic.Int32
			var wg sync.WaitGroup
			for _, r := range cl.replicas {
				for range 5 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						k, err := r.keys.RotateIfDue(context.Background(), time.Hour, 0, time.Hour)
						if err != nil {
							t.Error(err)
						}
						if k != nil {
							rotated.Add(1)
						}
					}()
				}
			}
			wg.Wait()
			if rotated.Load() != 1 {
				t.Fatalf("%d rotations, want 1", rotated.Load())
			}
		})
	})
}
