package resource

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// signet is a real Signet on a loopback port over a SQLite file, built as
// cmd/signet's serve builds it, that counts the requests resource makes.
type signet struct {
	Issuer   string
	Keys     *keyring.Ring
	Registry *clients.Registry

	jwksHits, introspectHits atomic.Int64
}

func startSignet(t *testing.T) *signet {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sealer, err := keyring.NewSealer("test-secret-test-secret-test-secret-0123")
	if err != nil {
		t.Fatal(err)
	}
	cryptoKey, err := keyring.LoadCryptoKey(ctx, db, sealer)
	if err != nil {
		t.Fatal(err)
	}
	keys := keyring.New(db, sealer, time.Now, time.Hour)
	if err := keys.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	reg := clients.NewRegistry(db, clients.WithCache(time.Second))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := op.DefaultConfig("http://" + ln.Addr().String())
	cfg.Insecure, cfg.CryptoKey = true, cryptoKey
	srv, err := op.New(cfg, op.Deps{DB: db, Registry: reg, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	s := &signet{Issuer: cfg.Issuer, Keys: keys, Registry: reg}
	count := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/keys":
			s.jwksHits.Add(1)
		case "/oauth/introspect":
			s.introspectHits.Add(1)
		}
		srv.ServeHTTP(w, r)
	})
	hs := &httptest.Server{Listener: ln, Config: &http.Server{Handler: count}}
	hs.Start()
	t.Cleanup(hs.Close)
	return s
}

// addClient registers a confidential client and returns its ID and secret.
func (s *signet) addClient(t *testing.T) (string, string) {
	t.Helper()
	c, secret, err := s.Registry.Add(context.Background(), clients.Params{Name: "API", RedirectURIs: []string{"https://app.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	return c.ID, secret
}

// login signs in headless with a fresh wallet (POST /auth/nonce, then
// /auth/verify with an EIP-191 personal_sign signature) and returns the
// access token, the ID token and the wallet's address.
func (s *signet) login(t *testing.T, clientID, secret, scope string) (access, id, address string) {
	t.Helper()
	key, _ := crypto.GenerateKey()
	address = crypto.PubkeyToAddress(key.PublicKey).Hex()
	n := postJSON(t, s.Issuer+"/auth/nonce", map[string]any{"address": address, "client_id": clientID, "scope": scope})
	msg := n["message"].(string)
	sig, err := crypto.Sign(siwe.TextHash([]byte(msg)).Bytes(), key)
	if err != nil {
		t.Fatal(err)
	}
	sig[64] += 27
	tok := postJSON(t, s.Issuer+"/auth/verify", map[string]any{"message": msg, "signature": hexutil.Encode(sig), "client_id": clientID, "client_secret": secret})
	return tok["access_token"].(string), tok["id_token"].(string), address
}

// revoke revokes a token at Signet's revocation endpoint (RFC 7009).
func (s *signet) revoke(t *testing.T, clientID, secret, token string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.Issuer+"/revoke", strings.NewReader(url.Values{"token": {token}, "token_type_hint": {"access_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
}

// signingKey is the private key Signet signs with now, and its kid.
func (s *signet) signingKey(t *testing.T) (*rsa.PrivateKey, string) {
	t.Helper()
	k, err := s.Keys.SigningKey(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k.Key().(*rsa.PrivateKey), k.ID()
}

func postJSON(t *testing.T, u string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(u, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", u, resp.StatusCode, raw)
	}
	return m
}

// mint signs claims with key as a JWS with the given alg, kid and typ
// (each left out when empty).
func mint(t *testing.T, key *rsa.PrivateKey, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// call sends a request through mw to a handler that echoes the Principal,
// with the given headers, and returns the recorded answer.
func call(mw func(http.Handler) http.Handler, headers ...string) *httptest.ResponseRecorder {
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := FromContext(r.Context())
		if !ok {
			http.Error(w, "no principal", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(p)
	}))
	r := httptest.NewRequest(http.MethodGet, "/things", nil)
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Add(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

// refused checks a refusal: status, WWW-Authenticate error code, and that
// the JSON body's description contains want.
func refused(t *testing.T, w *httptest.ResponseRecorder, status int, code, want string) {
	t.Helper()
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != status || body.Error != code || !strings.Contains(body.Description, want) || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("got %d %s, want %d %s %q", w.Code, w.Body, status, code, want)
	}
	if h := w.Header().Get("WWW-Authenticate"); status != http.StatusServiceUnavailable && !strings.Contains(h, `error="`+code+`"`) {
		t.Fatalf("WWW-Authenticate = %q, want error=%q", h, code)
	}
}
