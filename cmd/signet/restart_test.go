package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/siwe"
)

// TestMain lets the test binary act as `signet` itself, so a test can run
// the real server as a separate process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("SIGNET_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// process is `signet serve` running as a child process.
type process struct {
	cmd *exec.Cmd
	log *bytes.Buffer
}

func startSignet(t testing.TB, env []string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), append(env, "SIGNET_TEST_RUN_MAIN=1")...)
	var log bytes.Buffer
	lw := &lockedWriter{w: &log}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: &log}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became ready", base)
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func personalSign(t testing.TB, key *ecdsa.PrivateKey, msg string) string {
	sig, err := crypto.Sign(siwe.TextHash([]byte(msg)).Bytes(), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return hexutil.Encode(sig)
}

func postJSONTo(u string, body any) (int, map[string]any, error) {
	return postJSONWith(&http.Client{Timeout: 10 * time.Second}, u, body)
}

// postJSONWith is postJSONTo through c (say, a browser with a cookie jar).
func postJSONWith(c *http.Client, u string, body any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	resp, err := c.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, m, nil
}

// attempt is one signed challenge sent during the stream.
type attempt struct {
	message, signature string
	tokens             map[string]any // nil when no token response arrived
}

// TestRestartAfterKill kills a server (SIGKILL, no graceful shutdown) in the
// middle of a stream of logins and starts it again on the same database:
// every token issued before the kill still verifies and refreshes, and no
// challenge or code can be used twice.
func TestRestartAfterKill(t *testing.T) {
	addr := freePort(t)
	issuer := "http://" + addr
	dir := t.TempDir()
	env := []string{
		"SIGNET_DATABASE=sqlite:" + filepath.Join(dir, "signet.db"),
		"SIGNET_SECRET=" + strings.Repeat("r", 40),
		"SIGNET_ISSUER=" + issuer,
		"SIGNET_LISTEN=" + addr,
		"SIGNET_RATE_LIMIT_PER_IP=0",
		"SIGNET_RATE_LIMIT_PER_ADDRESS=0",
		"SIGNET_LOG_LEVEL=warn",
	}
	envMap := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		envMap[k] = v
	}
	out, err := run(t, envMap, "clients", "add", "--create", "--json", "--name", "Agent", "--redirect-uri", "http://127.0.0.1:9/cb")
	if err != nil {
		t.Fatal(err)
	}
	var client map[string]string
	_ = json.Unmarshal([]byte(out), &client)
	clientID, secret := client["client_id"], client["client_secret"]

	p := startSignet(t, env)
	waitReady(t, issuer)
	key, _ := crypto.GenerateKey()
	address := crypto.PubkeyToAddress(key.PublicKey).Hex()

	// A browser login whose code is not exchanged before the kill.
	code, verifier := browserCode(t, issuer, clientID, key)

	// The stream: logins until the process dies.
	var (
		mu       sync.Mutex
		attempts []*attempt
		issued   int
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, n, err := postJSONTo(issuer+"/auth/nonce", map[string]any{"address": address, "client_id": clientID, "scope": "openid offline_access"})
				if err != nil || status != 200 {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				a := &attempt{message: n["message"].(string)}
				a.signature = personalSign(t, key, a.message)
				mu.Lock()
				attempts = append(attempts, a)
				mu.Unlock()
				status, tok, err := postJSONTo(issuer+"/auth/verify", map[string]any{"message": a.message, "signature": a.signature, "client_id": clientID, "client_secret": secret})
				if err == nil && status == 200 {
					mu.Lock()
					a.tokens = tok
					issued++
					mu.Unlock()
				}
			}
		}()
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := issued
		mu.Unlock()
		if n >= 30 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()
	if issued < 30 {
		t.Fatalf("only %d logins before the kill\n%s", issued, p.log)
	}

	startSignet(t, env)
	waitReady(t, issuer)

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatal(err)
	}
	idVerifier := provider.Verifier(&oidc.Config{ClientID: clientID})
	conf := &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: provider.Endpoint(), RedirectURL: "http://127.0.0.1:9/cb"}
	replayed := 0
	for _, a := range attempts {
		if a.tokens != nil {
			if _, err := idVerifier.Verify(ctx, a.tokens["id_token"].(string)); err != nil {
				t.Fatalf("token issued before the kill no longer verifies: %v", err)
			}
			rt := a.tokens["refresh_token"].(string)
			if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token(); err != nil {
				t.Fatalf("refresh token issued before the kill: %v", err)
			}
		}
		// Whatever happened before the kill, a challenge yields tokens at most once.
		wins := 0
		if a.tokens != nil {
			wins++
		}
		for range 2 {
			status, _, err := postJSONTo(issuer+"/auth/verify", map[string]any{"message": a.message, "signature": a.signature, "client_id": clientID, "client_secret": secret})
			if err != nil {
				t.Fatal(err)
			}
			if status == 200 {
				wins++
				replayed++
			}
		}
		if wins > 1 {
			t.Fatalf("a challenge gave tokens %d times across the restart", wins)
		}
	}
	// The code issued before the kill: exchanged once, never twice.
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("code from before the kill: %v", err)
	}
	if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier)); err == nil {
		t.Fatal("a code was exchanged twice")
	}
	t.Logf("%d logins before the kill, %d attempts in all, %d unanswered challenges redeemed after restart", issued, len(attempts), replayed)
}

// browserCode walks the browser flow without a browser and returns an
// authorization code and its PKCE verifier.
func browserCode(t *testing.T, issuer, clientID string, key *ecdsa.PrivateKey) (string, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := oauth2.GenerateVerifier()
	q := url.Values{"client_id": {clientID}, "redirect_uri": {"http://127.0.0.1:9/cb"}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"}}
	resp, err := c.Get(issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	id := loc.Query().Get("authRequestID")
	address := crypto.PubkeyToAddress(key.PublicKey).Hex()
	status, ch, err := postJSONWith(c, issuer+"/login/challenge", map[string]any{"authRequestID": id, "address": address, "chainId": 1})
	if err != nil || status != 200 {
		t.Fatalf("challenge: %d %v %v", status, ch, err)
	}
	status, v, err := postJSONWith(c, issuer+"/login/verify", map[string]any{"authRequestID": id, "challengeId": ch["challengeId"], "signature": personalSign(t, key, ch["message"].(string))})
	if err != nil || status != 200 {
		t.Fatalf("verify: %d %v %v", status, v, err)
	}
	resp, err = c.Get(v["redirect"].(string))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if cb.Query().Get("code") == "" {
		t.Fatalf("no code in %s", cb)
	}
	return cb.Query().Get("code"), verifier
}
