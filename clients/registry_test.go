package clients

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

func TestAddConfidentialClient(t *testing.T) {
	reg, store, _ := newTestRegistry()
	c, secret, err := reg.Add(context.Background(), Params{
		Name:                   "  App  ",
		RedirectURIs:           []string{"https://app.example/cb", "https://app.example/cb", "https://app.example/other"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye", "https://app.example/bye"},
		Scopes:                 []string{"openid", "profile", "openid"},
		AccessTokenTTL:         time.Minute,
		Signers:                []string{addrB, strings.ToLower(addrB), addrC},
	})
	if err != nil {
		t.Fatal(err)
	}
	// countingReader: bytes 0..19 make the ID, bytes 20..51 the secret.
	if c.ID != "abcdefghijklmnopqrst" {
		t.Errorf("ID = %q, want the first 20 letters of the alphabet", c.ID)
	}
	wantSecret := make([]byte, 32)
	for i := range wantSecret {
		wantSecret[i] = byte(20 + i)
	}
	if secret != base64.RawURLEncoding.EncodeToString(wantSecret) {
		t.Errorf("secret = %q, want base64url of bytes 20..51", secret)
	}
	want := &Client{
		ID:                     "abcdefghijklmnopqrst",
		Name:                   "App",
		SecretHash:             HashSecret(secret),
		RedirectURIs:           []string{"https://app.example/cb", "https://app.example/other"},
		PostLogoutRedirectURIs: []string{"https://app.example/bye"},
		Scopes:                 []string{"openid", "profile"},
		AccessTokenTTL:         time.Minute,
		Signers:                []common.Address{common.HexToAddress(addrB), common.HexToAddress(addrC)},
		CreatedAt:              t0,
		UpdatedAt:              t0,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("client =\n  %+v\nwant\n  %+v", c, want)
	}
	if got := store.stored(c.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("stored =\n  %+v\nwant\n  %+v", got, want)
	}
	if strings.Contains(store.stored(c.ID).SecretHash, secret) {
		t.Error("the stored hash contains the secret")
	}
}

func TestAddDefaultsToAllScopes(t *testing.T) {
	reg, _, _ := newTestRegistry()
	c, _, err := reg.Add(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Scopes, KnownScopes()) {
		t.Errorf("scopes = %q, want %q", c.Scopes, KnownScopes())
	}
}

func TestAddPublicClientHasNoSecret(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.Public = true
	c, secret, err := reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || c.SecretHash != "" || !c.Public {
		t.Errorf("secret %q, hash %q, public %v; want no secret on a public client", secret, c.SecretHash, c.Public)
	}
}

func TestAddRandomIDIsUnbiased(t *testing.T) {
	// 255 is past the last multiple of 36 and must be skipped, not folded to 'd'.
	src := append([]byte{255, 35}, make([]byte, 64)...)
	id, err := randomID(strings.NewReader(string(src)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(id, "9") || len(id) != 20 {
		t.Errorf("id = %q, want 20 characters starting with '9'", id)
	}
}

func TestAddRandomFailure(t *testing.T) {
	reg := NewRegistry(newMemStore(), WithRandom(strings.NewReader("short")))
	if _, _, err := reg.Add(context.Background(), validParams()); err == nil || !strings.Contains(err.Error(), "generate client ID") {
		t.Fatalf("error = %v, want a client ID generation error", err)
	}
}

func TestAddFixedID(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.ID = "demo"
	c, _, err := reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "demo" {
		t.Errorf("ID = %q, want demo", c.ID)
	}
	p.ID = strings.ToLower(addrA)
	c, _, err = reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != addrA {
		t.Errorf("ID = %q, want the EIP-55 form %s", c.ID, addrA)
	}
}

func TestAddDuplicateID(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.ID = "demo"
	if _, _, err := reg.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	_, _, err := reg.Add(context.Background(), p)
	if !errors.Is(err, ErrClientExists) || !strings.Contains(err.Error(), `"demo"`) {
		t.Fatalf("error = %v, want ErrClientExists naming demo", err)
	}
}

func TestAddLicenseClient(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.License, p.ChainID = strings.ToLower(addrA), 137
	p.Signers = []string{addrB}
	c, secret, err := reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != addrA || c.LicenseChainID != 137 || !c.IsLicense() {
		t.Errorf("ID %q chain %d license %v; want %s on chain 137", c.ID, c.LicenseChainID, c.IsLicense(), addrA)
	}
	if secret == "" {
		t.Error("a confidential license client got no secret")
	}
	if !slices.Contains(c.Signers, common.HexToAddress(addrB)) {
		t.Error("signer not registered")
	}
}

func TestAddStoreFailure(t *testing.T) {
	reg, store, _ := newTestRegistry()
	store.err = errors.New("disk full")
	_, _, err := reg.Add(context.Background(), validParams())
	if err == nil || errors.Is(err, ErrClientExists) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error = %v, want the store error", err)
	}
}

func TestGetNormalizesAddressIDs(t *testing.T) {
	reg, _, _ := newTestRegistry()
	p := validParams()
	p.License, p.ChainID = addrA, 1
	if _, _, err := reg.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{addrA, strings.ToLower(addrA), "0X" + strings.ToUpper(addrA[2:])} {
		c, err := reg.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("Get(%q): %v", id, err)
		}
		if c.ID != addrA {
			t.Errorf("Get(%q).ID = %q", id, c.ID)
		}
	}
}

func TestGetMissing(t *testing.T) {
	reg, _, _ := newTestRegistry()
	_, err := reg.Get(context.Background(), "nope")
	if !errors.Is(err, ErrClientNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("error = %v, want ErrClientNotFound naming nope", err)
	}
}

func TestList(t *testing.T) {
	reg, _, _ := newTestRegistry()
	for _, id := range []string{"b", "a"} {
		p := validParams()
		p.ID = id
		if _, _, err := reg.Add(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := reg.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("ids = %q, want [a b]", ids)
	}
}

func TestRemove(t *testing.T) {
	reg, store, _ := newTestRegistry()
	p := validParams()
	p.License, p.ChainID = addrA, 1
	if _, _, err := reg.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if err := reg.Remove(context.Background(), strings.ToLower(addrA)); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if store.stored(addrA) != nil {
		t.Fatal("client still stored")
	}
	if err := reg.Remove(context.Background(), addrA); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("second Remove error = %v, want ErrClientNotFound", err)
	}
}

// addConfidential registers a confidential client "app" and returns its secret.
func addConfidential(t *testing.T, reg *Registry) string {
	t.Helper()
	p := validParams()
	p.ID = "app"
	_, secret, err := reg.Add(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// secretOpens reports whether secret authenticates client id, as the token
// endpoint checks it: the stored client's CheckSecret.
func secretOpens(t *testing.T, reg *Registry, id, secret string) bool {
	t.Helper()
	c, err := reg.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c.CheckSecret(secret)
}

func TestRegisteredSecret(t *testing.T) {
	reg, _, _ := newTestRegistry()
	secret := addConfidential(t, reg)
	pub := validParams()
	pub.ID, pub.Public = "pub", true
	if _, _, err := reg.Add(context.Background(), pub); err != nil {
		t.Fatal(err)
	}
	if !secretOpens(t, reg, "app", secret) {
		t.Fatal("the right secret is refused")
	}
	for _, tc := range []struct{ name, id, secret string }{
		{"wrong secret", "app", secret + "x"},
		{"empty secret", "app", ""},
		{"public client with no secret", "pub", ""},
		{"public client with the hash as secret", "pub", HashSecret("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if secretOpens(t, reg, tc.id, tc.secret) {
				t.Fatal("accepted")
			}
		})
	}
}

func TestRotateSecret(t *testing.T) {
	reg, store, clock := newTestRegistry()
	old := addConfidential(t, reg)
	clock.Advance(time.Hour)

	secret, err := reg.RotateSecret(context.Background(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if secret == old || len(secret) != 43 {
		t.Fatalf("new secret %q: want a fresh 43-character secret", secret)
	}
	if secretOpens(t, reg, "app", old) {
		t.Error("the old secret still works after rotation")
	}
	if !secretOpens(t, reg, "app", secret) {
		t.Error("the new secret does not work")
	}
	if got := store.stored("app"); !got.UpdatedAt.Equal(t0.Add(time.Hour)) || !got.CreatedAt.Equal(t0) {
		t.Errorf("times created %v updated %v; want %v and an hour later", got.CreatedAt, got.UpdatedAt, t0)
	}
}

func TestRotateSecretPublicClient(t *testing.T) {
	reg, store, _ := newTestRegistry()
	p := validParams()
	p.ID, p.Public = "pub", true
	if _, _, err := reg.Add(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	secret, err := reg.RotateSecret(context.Background(), "pub")
	if !errors.Is(err, ErrPublicClient) || secret != "" {
		t.Fatalf("RotateSecret = %q, %v; want ErrPublicClient", secret, err)
	}
	if h := store.stored("pub").SecretHash; h != "" {
		t.Errorf("public client got a secret hash %q", h)
	}
}

func TestRotateSecretMissing(t *testing.T) {
	reg, _, _ := newTestRegistry()
	if _, err := reg.RotateSecret(context.Background(), "ghost"); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("error = %v, want ErrClientNotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdate(t *testing.T) {
	a, b := common.HexToAddress(addrA), common.HexToAddress(addrB)
	tests := []struct {
		name  string
		ch    Changes
		check func(t *testing.T, c *Client)
	}{
		{"add redirect URIs", Changes{AddRedirectURIs: []string{"https://app.example/two", "https://app.example/cb"}},
			func(t *testing.T, c *Client) {
				want := []string{"https://app.example/cb", "https://app.example/one", "https://app.example/two"}
				if !slices.Equal(c.RedirectURIs, want) {
					t.Errorf("redirect URIs = %q, want %q", c.RedirectURIs, want)
				}
			}},
		{"remove a redirect URI", Changes{RemoveRedirectURIs: []string{"https://app.example/one"}},
			func(t *testing.T, c *Client) {
				if want := []string{"https://app.example/cb"}; !slices.Equal(c.RedirectURIs, want) {
					t.Errorf("redirect URIs = %q, want %q", c.RedirectURIs, want)
				}
			}},
		{"replace, then add and remove redirect URIs", Changes{
			RedirectURIs:       &[]string{"https://new.example/a", "https://new.example/b"},
			AddRedirectURIs:    []string{"https://new.example/c"},
			RemoveRedirectURIs: []string{"https://new.example/a"},
		}, func(t *testing.T, c *Client) {
			if want := []string{"https://new.example/b", "https://new.example/c"}; !slices.Equal(c.RedirectURIs, want) {
				t.Errorf("redirect URIs = %q, want %q", c.RedirectURIs, want)
			}
		}},
		{"add signers", Changes{AddSigners: []string{strings.ToLower(addrB), addrA}},
			func(t *testing.T, c *Client) {
				if want := []common.Address{a, b}; !slices.Equal(c.Signers, want) {
					t.Errorf("signers = %v, want %v", c.Signers, want)
				}
			}},
		{"remove a signer", Changes{RemoveSigners: []string{strings.ToUpper("0x" + addrA[2:])}},
			func(t *testing.T, c *Client) {
				if len(c.Signers) != 0 {
					t.Errorf("signers = %v, want none", c.Signers)
				}
			}},
		{"name, scopes, post-logout URIs and TTLs", Changes{
			Name:                   ptr("Renamed"),
			Scopes:                 &[]string{"openid", "siwe"},
			PostLogoutRedirectURIs: &[]string{"https://app.example/bye"},
			AccessTokenTTL:         ptr(5 * time.Minute),
			IDTokenTTL:             ptr(10 * time.Minute),
			RefreshTokenTTL:        ptr(MaxTTL),
		}, func(t *testing.T, c *Client) {
			if c.Name != "Renamed" || !slices.Equal(c.Scopes, []string{"openid", "siwe"}) ||
				!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://app.example/bye"}) ||
				c.AccessTokenTTL != 5*time.Minute || c.IDTokenTTL != 10*time.Minute || c.RefreshTokenTTL != MaxTTL {
				t.Errorf("client = %+v", c)
			}
		}},
		{"empty scopes restore all", Changes{Scopes: &[]string{}},
			func(t *testing.T, c *Client) {
				if !slices.Equal(c.Scopes, KnownScopes()) {
					t.Errorf("scopes = %q, want all known", c.Scopes)
				}
			}},
		{"zero TTL restores the default", Changes{AccessTokenTTL: ptr(time.Duration(0))},
			func(t *testing.T, c *Client) {
				if c.AccessTokenTTL != 0 {
					t.Errorf("access token TTL = %v, want 0", c.AccessTokenTTL)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, store, clock := newTestRegistry()
			p := validParams()
			p.License, p.ChainID = addrA, 1
			p.RedirectURIs = append(p.RedirectURIs, "https://app.example/one")
			p.Signers = []string{addrA}
			p.AccessTokenTTL = time.Hour
			if _, _, err := reg.Add(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			clock.Advance(time.Minute)
			c, err := reg.Update(context.Background(), strings.ToLower(addrA), tt.ch)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			tt.check(t, c)
			stored := store.stored(addrA)
			if !reflect.DeepEqual(stored, c) {
				t.Errorf("stored =\n  %+v\nreturned\n  %+v", stored, c)
			}
			if !stored.CreatedAt.Equal(t0) || !stored.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("created %v updated %v", stored.CreatedAt, stored.UpdatedAt)
			}
		})
	}
}

func TestUpdateRejected(t *testing.T) {
	tests := []struct {
		name string
		ch   Changes
		want []string
	}{
		{"removing the last redirect URI", Changes{RemoveRedirectURIs: []string{"https://app.example/cb"}},
			[]string{"at least one redirect URI is required"}},
		{"replacing redirect URIs with none", Changes{RedirectURIs: &[]string{}},
			[]string{"at least one redirect URI is required"}},
		{"removing an unregistered redirect URI", Changes{RemoveRedirectURIs: []string{"https://app.example/nope"}},
			[]string{`redirect URI "https://app.example/nope" is not registered`}},
		{"adding a bad redirect URI", Changes{AddRedirectURIs: []string{"http://app.example/cb"}},
			[]string{`redirect URI "http://app.example/cb" uses http on a non-loopback host; use https (RFC 6749 §3.1.2.1)`}},
		{"adding a bad signer", Changes{AddSigners: []string{"0x1"}},
			[]string{`signer "0x1" is not a 0x-prefixed hex address`}},
		{"removing an unregistered signer", Changes{RemoveSigners: []string{strings.ToLower(addrC)}},
			[]string{"signer " + addrC + " is not registered"}},
		{"empty name", Changes{Name: ptr(" ")}, []string{"name is required"}},
		{"unknown scope", Changes{Scopes: &[]string{"Admin"}}, []string{`scope "Admin" is neither a known scope ` + knownList + apiScopeWords}},
		{"TTL over the cap", Changes{IDTokenTTL: ptr(MaxTTL + 1)}, []string{"ID token TTL 336h0m0.000000001s exceeds the maximum of 336h0m0s"}},
		{"several problems", Changes{Name: ptr(""), RemoveRedirectURIs: []string{"https://app.example/cb"}}, []string{
			"name is required",
			"at least one redirect URI is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, store, clock := newTestRegistry()
			p := validParams()
			p.ID = "app"
			p.Signers = []string{addrB}
			if _, _, err := reg.Add(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			before := store.stored("app")
			clock.Advance(time.Minute)
			c, err := reg.Update(context.Background(), "app", tt.ch)
			if got := problemsOf(t, err); !slices.Equal(got, tt.want) {
				t.Errorf("problems =\n  %q\nwant\n  %q", got, tt.want)
			}
			if c != nil {
				t.Errorf("Update returned %+v with an error", c)
			}
			if after := store.stored("app"); !reflect.DeepEqual(after, before) {
				t.Errorf("store changed by a rejected update:\n  before %+v\n  after  %+v", before, after)
			}
		})
	}
}

func TestUpdateMissing(t *testing.T) {
	reg, _, _ := newTestRegistry()
	if _, err := reg.Update(context.Background(), "ghost", Changes{Name: ptr("x")}); !errors.Is(err, ErrClientNotFound) {
		t.Fatalf("error = %v, want ErrClientNotFound", err)
	}
}

func TestProfileDefaultsItsTokenLifetime(t *testing.T) {
	reg, _, _ := newTestRegistry()
	for name, want := range Profiles {
		p := validParams()
		p.ID, p.Profile = "p-"+name, name
		c, _, err := reg.Add(context.Background(), p)
		if err != nil || c.AccessTokenTTL != want || c.Profile != name {
			t.Fatalf("%s: %+v %v, want access-token TTL %v", name, c, err, want)
		}
	}
	p := validParams()
	p.ID, p.Profile, p.AccessTokenTTL = "own-ttl", "reppo", time.Hour
	if c, _, err := reg.Add(context.Background(), p); err != nil || c.AccessTokenTTL != time.Hour {
		t.Fatalf("an explicit TTL: %+v %v", c, err)
	}
	p.ID, p.Profile = "bad", "nope"
	var ve *ValidationError
	if _, _, err := reg.Add(context.Background(), p); !errors.As(err, &ve) || !strings.Contains(err.Error(), `profile "nope" is unknown`) {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestChangesAreAudited(t *testing.T) {
	var logs bytes.Buffer
	reg := NewRegistry(newMemStore(), WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	c, secret, err := reg.Add(context.Background(), validParams())
	if err != nil {
		t.Fatal(err)
	}
	newSecret, err := reg.RotateSecret(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Remove(context.Background(), c.ID); err != nil {
		t.Fatal(err)
	}
	for _, event := range []string{"client_added", "client_secret_rotated", "client_removed"} {
		if !strings.Contains(logs.String(), `"event":"`+event+`"`) {
			t.Errorf("no %s event in %s", event, logs.String())
		}
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), newSecret) {
		t.Fatal("a secret reached the log")
	}
}
