package agents

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults of [FilesConfig].
const (
	// DefaultFileTimeout bounds one fetch of a registration file.
	DefaultFileTimeout = 5 * time.Second
	// DefaultFileMaxBytes bounds a registration file.
	DefaultFileMaxBytes = 64 << 10
	// DefaultFileTTL is how long a registration file is kept; a failure is
	// kept a tenth of it.
	DefaultFileTTL = 10 * time.Minute
)

const (
	// maxFiles bounds the cache.
	maxFiles = 1024
	// maxRedirects bounds the redirects of one fetch.
	maxRedirects = 3
	// maxNameRunes bounds the agent_name claim.
	maxNameRunes = 200
	// maxServicesBytes bounds the agent_services claim, which every token carries.
	maxServicesBytes = 8 << 10
)

// FilesConfig configures a [Files].
type FilesConfig struct {
	// AllowPrivate lets fetches reach loopback, private, link-local and
	// other special-purpose addresses: for tests, or for registries whose
	// files live on the operator's own network. Off, they are refused.
	AllowPrivate bool
	// Timeout bounds one fetch, redirects included; zero: DefaultFileTimeout.
	Timeout time.Duration
	// MaxBytes bounds a file; zero: DefaultFileMaxBytes.
	MaxBytes int64
	// TTL is how long a file is cached; zero: DefaultFileTTL.
	TTL time.Duration
	// RootCAs, if set, are the roots https fetches trust instead of the
	// system's (tests).
	RootCAs *x509.CertPool
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	// public decides which addresses may be dialed (tests); nil: IsPublic,
	// or anything with AllowPrivate.
	public func(netip.Addr) bool
}

// Registration is what a registration file says that tokens carry.
type Registration struct {
	// Name is the agent's name; "" when the file has none that fits a claim.
	Name string
	// Services is the file's services, compact JSON; "" when it has none
	// that fit a claim.
	Services string
}

// Files fetches ERC-8004 registration files (ERC-8004 "Agent URI and Agent
// Registration File") from the https and data: URIs agents register, and
// caches them; use [NewFiles].
type Files struct {
	cfg    FilesConfig
	client *http.Client

	mu    sync.Mutex
	cache map[string]cachedFile
	order []string // cache keys, oldest first
}

type cachedFile struct {
	reg     *Registration
	err     error
	expires time.Time
}

// NewFiles returns a Files for cfg.
func NewFiles(cfg FilesConfig) *Files {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultFileTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultFileMaxBytes
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultFileTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.public == nil {
		cfg.public = IsPublic
		if cfg.AllowPrivate {
			cfg.public = func(netip.Addr) bool { return true }
		}
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: dialControl(cfg.public)}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would be dialed instead of the host
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 16 << 10,
		MaxIdleConns:           16,
		IdleConnTimeout:        30 * time.Second,
	}
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout, CheckRedirect: checkRedirect}
	return &Files{cfg: cfg, client: client, cache: map[string]cachedFile{}}
}

// checkRedirect follows at most maxRedirects redirects, to https only; the
// dialer checks where each one leads.
func checkRedirect(r *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return errors.New("agents: too many redirects")
	}
	if r.URL.Scheme != "https" {
		return errors.New("agents: a redirect away from https")
	}
	return nil
}

// Get returns the registration file at uri, from the cache when it was read
// lately. Errors say what failed in Signet's words; they never carry what
// the fetch returned.
func (f *Files) Get(ctx context.Context, uri string) (*Registration, error) {
	now := f.cfg.Now()
	f.mu.Lock()
	c, ok := f.cache[uri]
	f.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.reg, c.err
	}
	reg, err := f.fetch(ctx, uri)
	ttl := f.cfg.TTL
	if err != nil {
		ttl /= 10
	}
	f.remember(uri, cachedFile{reg: reg, err: err, expires: now.Add(ttl)})
	return reg, err
}

// remember caches a result, forgetting the oldest when the cache is full.
func (f *Files) remember(uri string, c cachedFile) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.cache[uri]; !ok {
		if len(f.order) >= maxFiles {
			delete(f.cache, f.order[0])
			f.order = f.order[1:]
		}
		f.order = append(f.order, uri)
	}
	f.cache[uri] = c
}

// fetch reads and parses the file at uri.
func (f *Files) fetch(ctx context.Context, uri string) (*Registration, error) {
	var body []byte
	var err error
	switch {
	case strings.HasPrefix(uri, "data:"):
		body, err = decodeDataURI(uri, f.cfg.MaxBytes)
	case strings.HasPrefix(uri, "https://"):
		body, err = f.download(ctx, uri)
	default:
		return nil, errors.New("agents: the registration file URI is neither https: nor data:")
	}
	if err != nil {
		return nil, err
	}
	return parseRegistration(body)
}

// download GETs an https URI, bounded in time and size.
func (f *Files) download(ctx context.Context, uri string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, errors.New("agents: the registration file URI is not an https URL with a host")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, errors.New("agents: the registration file URI is not an https URL with a host")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("agents: registration file not fetched: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("agents: registration file answered HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("agents: registration file not read: %w", err)
	case int64(len(body)) > f.cfg.MaxBytes:
		return nil, fmt.Errorf("agents: registration file is larger than %d bytes", f.cfg.MaxBytes)
	}
	return body, nil
}

// decodeDataURI decodes a data: URI (RFC 2397) of JSON, base64 or
// percent-encoded.
func decodeDataURI(uri string, maxBytes int64) ([]byte, error) {
	header, data, ok := strings.Cut(strings.TrimPrefix(uri, "data:"), ",")
	if !ok {
		return nil, errors.New("agents: the data: URI has no comma")
	}
	mediaType, isBase64 := strings.CutSuffix(header, ";base64")
	if mt, _, err := mime.ParseMediaType(mediaType); err != nil || mt != "application/json" {
		return nil, errors.New("agents: the data: URI is not application/json")
	}
	var body []byte
	var err error
	if isBase64 {
		body, err = base64.StdEncoding.DecodeString(data)
	} else {
		var s string
		s, err = url.PathUnescape(data)
		body = []byte(s)
	}
	switch {
	case err != nil:
		return nil, errors.New("agents: the data: URI does not decode")
	case int64(len(body)) > maxBytes:
		return nil, fmt.Errorf("agents: registration file is larger than %d bytes", maxBytes)
	}
	return body, nil
}

// parseRegistration reads a registration file's name and services, leaving
// out what does not fit in a claim: a name with control characters or over
// maxNameRunes characters, services that are not an array of objects or
// take more than maxServicesBytes.
func parseRegistration(body []byte) (*Registration, error) {
	var file struct {
		Name     json.RawMessage `json:"name"`
		Services json.RawMessage `json:"services"`
	}
	if err := json.Unmarshal(body, &file); err != nil {
		return nil, errors.New("agents: the registration file is not a JSON object")
	}
	reg := &Registration{}
	var name string
	if json.Unmarshal(file.Name, &name) == nil && utf8.RuneCountInString(name) <= maxNameRunes && !strings.ContainsFunc(name, unicode.IsControl) {
		reg.Name = strings.TrimSpace(name)
	}
	var services []map[string]any
	if json.Unmarshal(file.Services, &services) == nil && services != nil {
		var compact bytes.Buffer
		if json.Compact(&compact, file.Services) == nil && compact.Len() <= maxServicesBytes {
			reg.Services = compact.String()
		}
	}
	return reg, nil
}
