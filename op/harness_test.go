package op_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/clocktest"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// testServer is Signet on a loopback port with a SQLite file.
type testServer struct {
	*httptest.Server
	Issuer   string
	DB       *storage.DB
	Registry *clients.Registry
	Keys     *keyring.Ring
	Signet   *op.Server
	Clock    *clocktest.Clock

	mu      sync.Mutex
	secrets map[string]string // of the clients addClient registered
}

// secret is the secret addClient got for a client ("" for a public one).
func (ts *testServer) secret(clientID string) string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.secrets[clientID]
}

const testSecret = "test-secret-test-secret-test-secret-0123"

// newTestServer starts Signet on 127.0.0.1:0 over a fresh SQLite file.
// A nil clock means the real one.
func newTestServer(t testing.TB, clock *clocktest.Clock, mutate ...func(*op.Config)) *testServer {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "signet.db")
	return newTestServerDSN(t, dsn, clock, mutate...)
}

// newTestServerPath serves Signet with an issuer that has a path.
func newTestServerPath(t testing.TB, path string) *testServer {
	t.Helper()
	return newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, path, nil)
}

func newTestServerDSN(t testing.TB, dsn string, clock *clocktest.Clock, mutate ...func(*op.Config)) *testServer {
	t.Helper()
	return newTestServerFull(t, dsn, clock, "", nil, mutate...)
}

// newTestServerFull is the general form: an issuer path, and deps may
// change the parts the server is built from (e.g. its signature checker).
func newTestServerFull(t testing.TB, dsn string, clock *clocktest.Clock, path string, deps func(*op.Deps), mutate ...func(*op.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	now := time.Now
	if clock != nil {
		now = clock.Now
	}
	db, err := storage.Open(ctx, dsn, storage.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := keyring.NewSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyring.LoadCryptoKey(ctx, db, sealer)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.New(db, sealer, now, time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	reg := clients.NewRegistry(db, clients.WithClock(now), clients.WithCache(time.Second))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + ln.Addr().String() + path
	cfg := op.DefaultConfig(issuer)
	cfg.Insecure = true
	cfg.CryptoKey = key
	for _, m := range mutate {
		m(&cfg)
	}
	d := op.Deps{DB: db, Registry: reg, Keys: keys, Now: now}
	if deps != nil {
		deps(&d)
	}
	srv, err := op.New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: srv}}
	hs.Start()
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, Issuer: cfg.Issuer, DB: db, Registry: reg, Keys: keys, Signet: srv, Clock: clock}
}

// addClient registers a client and returns it with its secret.
func (ts *testServer) addClient(t testing.TB, p clients.Params) (*clients.Client, string) {
	t.Helper()
	if p.Name == "" {
		p.Name = "Test App"
	}
	c, secret, err := ts.Registry.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	ts.mu.Lock()
	if ts.secrets == nil {
		ts.secrets = map[string]string{}
	}
	ts.secrets[c.ID] = secret
	ts.mu.Unlock()
	return c, secret
}

// wallet is a test EOA that answers personal_sign.
type wallet struct {
	key *ecdsa.PrivateKey
}

func newWallet(t testing.TB) *wallet {
	t.Helper()
	k, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &wallet{key: k}
}

func (w *wallet) Address() string { return crypto.PubkeyToAddress(w.key.PublicKey).Hex() }

// Sign is personal_sign: EIP-191 over the exact bytes, v as 27/28.
func (w *wallet) Sign(t testing.TB, message string) string {
	t.Helper()
	sig, err := crypto.Sign(siwe.TextHash([]byte(message)).Bytes(), w.key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	return hexutil.Encode(sig)
}

// browser is an HTTP client that does not follow redirects, so each hop of
// the flow is checked.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func postJSON(t testing.TB, c *http.Client, u string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := c.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return resp, decodeBody(t, resp)
}

func decodeBody(t testing.TB, resp *http.Response) map[string]any {
	t.Helper()
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: body is not JSON: %q", resp.Request.URL.Path, raw)
	}
	return m
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("v", 20) + base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// loginResult is where the browser flow ended.
type loginResult struct {
	Callback *url.URL // the client's redirect URI with code, state, iss
}

// authorize sends the browser to the authorize endpoint and returns the
// login page's authRequestID.
func authorize(t testing.TB, ts *testServer, c *http.Client, authURL string) string {
	t.Helper()
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if loc.Path != "/login" {
		t.Fatalf("authorize redirected to %s, want the login page", loc)
	}
	id := loc.Query().Get("authRequestID")
	if id == "" {
		t.Fatalf("no authRequestID in %s", loc)
	}
	return id
}

// signIn does what the login page's script does: ask for a challenge, sign
// it, post the signature, follow the callback to the client's redirect URI.
func signIn(t testing.TB, ts *testServer, c *http.Client, authRequestID string, w *wallet) *url.URL {
	t.Helper()
	resp, ch := postJSON(t, c, ts.Issuer+"/login/challenge", map[string]any{"authRequestID": authRequestID, "address": w.Address(), "chainId": 1})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("challenge: %d %v", resp.StatusCode, ch)
	}
	msg := ch["message"].(string)
	resp, v := postJSON(t, c, ts.Issuer+"/login/verify", map[string]any{"authRequestID": authRequestID, "challengeId": ch["challengeId"], "signature": w.Sign(t, msg)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: %d %v", resp.StatusCode, v)
	}
	return followCallback(t, c, v["redirect"].(string))
}

// followCallback follows the login page's redirect to zitadel's callback and
// returns where that sends the browser: the client's redirect URI.
func followCallback(t testing.TB, c *http.Client, next string) *url.URL {
	t.Helper()
	resp, err := c.Get(next)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("callback: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// oneWinner runs submit n times at once and requires exactly one 200; the
// others must be refused with 400.
func oneWinner(t *testing.T, n int, submit func() int) {
	t.Helper()
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses <- submit()
		}()
	}
	wg.Wait()
	close(statuses)
	won := 0
	for s := range statuses {
		switch s {
		case http.StatusOK:
			won++
		case http.StatusBadRequest:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent submissions won, want exactly 1", won, n)
	}
}

func errorAs(err error, target any) bool { return errors.As(err, target) }

// parseHeader returns the kid of a compact JWS.
func parseHeader(jwt string) (string, error) {
	h, _, _ := strings.Cut(jwt, ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", err
	}
	var hdr struct {
		KID string `json:"kid"`
	}
	err = json.Unmarshal(raw, &hdr)
	return hdr.KID, err
}

func formBody(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
