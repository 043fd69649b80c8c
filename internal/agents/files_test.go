package agents

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/clocktest"
)

const registrationJSON = `{"type":"https://eips.ethereum.org/EIPS/eip-8004#registration-v1","name":"Agent Smith",
 "description":"secret: do not echo", "services":[{"name":"A2A","endpoint":"https://agent.example/a2a","version":"0.3.0"}]}`

// fileServer serves body over TLS on addr ("127.0.0.1:0" or another
// loopback address) and counts its requests.
func fileServer(t *testing.T, addr string, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func serveJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

func roots(srv *httptest.Server) *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return pool
}

func TestFilesFetchHTTPSAndCache(t *testing.T) {
	srv, hits := fileServer(t, "127.0.0.1:0", serveJSON(registrationJSON))
	clock := clocktest.New(time.Unix(1_800_000_000, 0))
	files := NewFiles(FilesConfig{AllowPrivate: true, RootCAs: roots(srv), Now: clock.Now})
	for range 3 {
		reg, err := files.Get(context.Background(), srv.URL+"/agent.json")
		if err != nil {
			t.Fatal(err)
		}
		if reg.Name != "Agent Smith" || reg.Services != `[{"name":"A2A","endpoint":"https://agent.example/a2a","version":"0.3.0"}]` {
			t.Fatalf("registration = %+v", reg)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches, want 1 (the cache serves the others)", hits.Load())
	}
	clock.Advance(DefaultFileTTL)
	if _, err := files.Get(context.Background(), srv.URL+"/agent.json"); err != nil || hits.Load() != 2 {
		t.Fatalf("after the TTL: %v, %d fetches", err, hits.Load())
	}
}

func TestFilesDataURIs(t *testing.T) {
	files := NewFiles(FilesConfig{})
	for name, uri := range map[string]string{
		"base64":         "data:application/json;base64," + base64.StdEncoding.EncodeToString([]byte(registrationJSON)),
		"percent":        "data:application/json," + url.PathEscape(registrationJSON),
		"with a charset": "data:application/json;charset=utf-8;base64," + base64.StdEncoding.EncodeToString([]byte(registrationJSON)),
	} {
		reg, err := files.Get(context.Background(), uri)
		if err != nil || reg.Name != "Agent Smith" || !strings.Contains(reg.Services, "A2A") {
			t.Errorf("%s: %+v, %v", name, reg, err)
		}
	}
	for name, uri := range map[string]string{
		"not JSON":      "data:text/plain;base64," + base64.StdEncoding.EncodeToString([]byte(registrationJSON)),
		"no comma":      "data:application/json;base64",
		"bad base64":    "data:application/json;base64,!!!",
		"too large":     "data:application/json," + url.PathEscape(`{"name":"`+strings.Repeat("a", DefaultFileMaxBytes)+`"}`),
		"not an object": "data:application/json,%5B1%2C2%5D",
		"http":          "http://agent.example/agent.json",
		"ipfs":          "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
	} {
		if reg, err := files.Get(context.Background(), uri); err == nil {
			t.Errorf("%s: read %+v", name, reg)
		}
	}
}

func TestFilesLeaveOutWhatDoesNotFitAClaim(t *testing.T) {
	for body, want := range map[string]Registration{
		`{"name":"Bot\u0007","services":{"a":1}}`:                               {},
		`{"name":"` + strings.Repeat("n", maxNameRunes+1) + `","services":[1]}`: {},
		`{"name":42,"services":[{"name":"` + strings.Repeat("s", 9000) + `"}]}`: {},
		`{"name":"  Agent  ","services":[ {"name" : "MCP"} ]}`:                  {Name: "Agent", Services: `[{"name":"MCP"}]`},
		`{"services":[]}`: {Services: `[]`},
	} {
		reg, err := parseRegistration([]byte(body))
		if err != nil || *reg != want {
			t.Errorf("%.40s…: %+v, %v; want %+v", body, reg, err, want)
		}
	}
}

// TestFilesRefuseTheOperatorsNetwork: without AllowPrivate, a registration
// file on a loopback address is refused where it is dialed, whether the URI
// names the address, names a host that resolves to it, or redirects to it;
// and nothing the server answered shows in the error.
func TestFilesRefuseTheOperatorsNetwork(t *testing.T) {
	srv, hits := fileServer(t, "127.0.0.1:0", serveJSON(registrationJSON))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	files := NewFiles(FilesConfig{RootCAs: roots(srv)})
	for _, uri := range []string{srv.URL + "/agent.json", "https://localhost:" + port + "/agent.json", "https://[::ffff:127.0.0.1]:" + port + "/"} {
		_, err := files.Get(context.Background(), uri)
		if !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: %v, want ErrPrivateAddress", uri, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("the private server was reached %d times", hits.Load())
	}

	// A redirect from an address the test treats as public to a private one.
	inner, innerHits := fileServer(t, "127.0.0.2:0", serveJSON(registrationJSON))
	outer, _ := fileServer(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inner.URL+"/agent.json", http.StatusFound)
	})
	publicOne := netip.MustParseAddr("127.0.0.1")
	redirecting := NewFiles(FilesConfig{RootCAs: roots(outer), public: func(ip netip.Addr) bool { return ip == publicOne }})
	if _, err := redirecting.Get(context.Background(), outer.URL+"/agent.json"); !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("redirect to a private address: %v", err)
	}
	if innerHits.Load() != 0 {
		t.Fatal("the redirect reached the private server")
	}
}

func TestFilesFailures(t *testing.T) {
	secret := "secret-body-0123456789"
	for name, h := range map[string]http.HandlerFunc{
		"not found": func(w http.ResponseWriter, _ *http.Request) { http.Error(w, secret, http.StatusNotFound) },
		"not JSON":  func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(secret + "<html>")) },
		"too large": serveJSON(`{"name":"` + strings.Repeat(secret, DefaultFileMaxBytes/len(secret)+1) + `"}`),
		"slow": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		},
		"redirect to http": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://agent.example/"+secret, http.StatusFound)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv, _ := fileServer(t, "127.0.0.1:0", h)
			files := NewFiles(FilesConfig{AllowPrivate: true, RootCAs: roots(srv), Timeout: 300 * time.Millisecond})
			reg, err := files.Get(context.Background(), srv.URL+"/agent.json")
			if err == nil {
				t.Fatalf("read %+v", reg)
			}
			if strings.Contains(err.Error(), "secret-body") && name != "redirect to http" {
				t.Fatalf("the error carries what the server answered: %v", err)
			}
		})
	}
}

func TestIsPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8": true, "2606:4700:4700::1111": true, "93.184.216.34": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false,
		"100.64.0.1": false, "0.0.0.0": false, "::1": false, "::": false, "fe80::1": false, "fd00::1": false,
		"::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true, "64:ff9b::a00:1": false, "2002:a00:1::": false, "224.0.0.1": false,
		"255.255.255.255": false, "198.18.0.1": false,
	} {
		if got := IsPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", addr, got, want)
		}
	}
}
