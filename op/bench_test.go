package op_test

// Benchmarks of sign-in throughput against the cryptographic floor.
//
//	go test -run '^$' -bench . -benchtime 2000x ./op/
//
// Each login costs at least two RSA-2048 signatures (ID token and JWT access
// token) and one secp256k1 recovery; BenchmarkFloor measures those, and the
// login benchmarks report that floor (internal/floor) against the CPU time
// the server and its database spent per login: "floor/cpu", and
// "beyond-floor-ms/login", the server's CPU beyond the cryptography;
// "floor/all-cpu" counts the load generator (see load_test.go) too.
// BenchmarkFloor/login is the plain parallel benchmark the floor must agree
// with.

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/floor"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/storagetest"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
)

func maxRSSMB() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

func BenchmarkFloor(b *testing.B) {
	b.Run("rsa2048-sign", func(b *testing.B) {
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		key.Precompute()
		digest := sha256.Sum256([]byte("x"))
		b.ResetTimer()
		for b.Loop() {
			_, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
		}
	})
	b.Run("secp256k1-recover", func(b *testing.B) {
		ek, _ := ethcrypto.GenerateKey()
		h := siwe.TextHash([]byte("x"))
		sig, _ := ethcrypto.Sign(h[:], ek)
		b.ResetTimer()
		for b.Loop() {
			_, _ = ethcrypto.SigToPub(h[:], sig)
		}
	})
	// One login's cryptography (floor.Login) per op on every core: "cpu-ms/login" is
	// ns/op × GOMAXPROCS, what floor.Measure reports as floor-ms/login.
	b.Run("login", func(b *testing.B) {
		floor.Login() // its keys are made once, outside the timing
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				floor.Login()
			}
		})
		b.ReportMetric(float64(b.Elapsed())*float64(runtime.GOMAXPROCS(0))/float64(b.N)/1e6, "cpu-ms/login")
	})
}

func benchServer(b *testing.B, dsn string) *testServer {
	return newTestServerDSN(b, dsn, nil, func(c *op.Config) { c.RateLimits = httpapi.RateLimits{} })
}

func benchBackends(b *testing.B, f func(b *testing.B, dsn string)) {
	b.Run("sqlite", func(b *testing.B) { f(b, storagetest.SQLiteDSN(b)) })
	b.Run("postgres", func(b *testing.B) { f(b, storagetest.PostgresDSN(b)) })
}

// BenchmarkHeadlessLogin: DIMO's generate_challenge → sign → submit_challenge
// over real HTTP on loopback.
func BenchmarkHeadlessLogin(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		ts := benchServer(b, dsn)
		c, _ := ts.addClient(b, clients.Params{RedirectURIs: []string{dimoDomain}, Public: true})
		for _, n := range []int{1, 8} {
			b.Run(clientsLabel(n), func(b *testing.B) {
				runLoad(b, loadSpec{Flow: "headless", Issuer: ts.Issuer, ClientID: c.ID, Clients: n})
			})
		}
	})
}

func clientsLabel(n int) string {
	if n == 1 {
		return "clients=1"
	}
	return "clients=8"
}

func headlessLogin(b testing.TB, ts *testServer, hc *http.Client, clientID string, w *wallet) error {
	q := url.Values{"client_id": {clientID}, "domain": {dimoDomain}, "scope": {"openid"}, "response_type": {"code"}, "address": {w.Address()}}
	resp, err := hc.Post(ts.Issuer+"/auth/web3/generate_challenge?"+q.Encode(), "", nil)
	if err != nil {
		return err
	}
	ch := decodeBody(b, resp)
	form := url.Values{"client_id": {clientID}, "domain": {dimoDomain}, "grant_type": {"authorization_code"},
		"state": {ch["state"].(string)}, "signature": {w.Sign(b, ch["challenge"].(string))}}
	resp, err = hc.PostForm(ts.Issuer+"/auth/web3/submit_challenge", form)
	if err != nil {
		return err
	}
	tok := decodeBody(b, resp)
	if resp.StatusCode != 200 || tok["id_token"] == nil {
		b.Fatalf("submit: %d %v", resp.StatusCode, tok)
	}
	return nil
}

// BenchmarkBrowserLogin: the browser flow's server side — authorize, login
// challenge, login verify, callback, token exchange.
func BenchmarkBrowserLogin(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn string) {
		ts := benchServer(b, dsn)
		c, secret := ts.addClient(b, clients.Params{RedirectURIs: []string{testRedirect}})
		for _, n := range []int{1, 8} {
			b.Run(clientsLabel(n), func(b *testing.B) {
				runLoad(b, loadSpec{Flow: "browser", Issuer: ts.Issuer, ClientID: c.ID, Secret: secret, Clients: n})
			})
		}
	})
}

// BenchmarkDiscoveryAndJWKS: requests per second with 8 clients.
func BenchmarkDiscoveryAndJWKS(b *testing.B) {
	ts := benchServer(b, storagetest.SQLiteDSN(b))
	for _, path := range []string{"/.well-known/openid-configuration", "/keys"} {
		b.Run(path, func(b *testing.B) {
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
			var next atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						resp, err := hc.Get(ts.Issuer + path)
						if err != nil {
							b.Error(err)
							return
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
