package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/demo"
	"github.com/signet-id/signet/internal/httpapi"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/internal/metrics"
	"github.com/signet-id/signet/op"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// serve runs the provider until ctx ends, then drains in-flight requests.
func (m *Main) serve(ctx context.Context, args []string) error {
	var c commonFlags
	fs := m.newFlagSet("serve", &c, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, problems := m.loadConfig(&c)
	if err := joinProblems(problems, cfg.Validate()); err != nil {
		return err
	}
	log := newLogger(cfg.Log, m.Stderr)
	// zitadel logs through slog's default logger.
	slog.SetDefault(log)
	p, err := startProvider(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer p.db.Close()
	return m.run(ctx, cfg, log, p)
}

// provider is a built server and what it runs on.
type provider struct {
	srv      *op.Server
	db       *storage.DB
	keys     *keyring.Ring
	registry *clients.Registry
	metrics  *metrics.Metrics
}

// startProvider opens the database, the keys and the registry, and builds
// the server; on error nothing is left open.
func startProvider(ctx context.Context, cfg Config, log *slog.Logger) (p *provider, err error) {
	secret, err := resolveSecret(cfg, log, true)
	if err != nil {
		return nil, err
	}
	p = &provider{metrics: metrics.New(nil)}
	db, err := storage.Open(ctx, cfg.Database, storage.WithErrorHook(p.metrics.DBError))
	if err != nil {
		return nil, err
	}
	p.db = db
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	sealer, err := keyring.NewSealer(secret)
	if err != nil {
		return nil, err
	}
	// Ensure first: it refuses a secret that does not open the stored keys
	// before anything is sealed with it.
	p.keys = keyring.New(p.db, sealer, time.Now, time.Duration(cfg.Keys.Refresh))
	p.keys.Log = log
	if err := p.keys.Ensure(ctx); err != nil {
		return nil, fmt.Errorf("signing key: %w", explainSecret(err))
	}
	cryptoKey, err := keyring.LoadCryptoKey(ctx, p.db, sealer)
	if err != nil {
		return nil, explainSecret(err)
	}
	p.registry = newRegistry(p.db, cfg.Dev, log)
	if cfg.Dev {
		if err := ensureDemoClient(ctx, p.registry, cfg.Issuer); err != nil {
			return nil, fmt.Errorf("demo client: %w", err)
		}
	}
	callers, err := rpcCallers(cfg, log)
	if err != nil {
		return nil, err
	}
	deps := op.Deps{
		DB: p.db, Registry: p.registry, Keys: p.keys, Logger: log, Metrics: p.metrics,
		Signatures: siwe.NewContractChecker(callers, time.Duration(cfg.RPCTimeout)),
		Agents:     newAgents(cfg, callers, log),
	}
	if mainnet, ok := callers[1]; ok {
		// SPEC: preferred_username is the ENS name where a chain-1 RPC resolves it.
		deps.Names = chain.NewENS(mainnet, common.HexToAddress(chain.ENSRegistry), 0)
	}
	p.srv, err = op.New(opConfig(cfg, cryptoKey), deps)
	return p, err
}

// run serves p (and the metrics, on their own listener when configured)
// with its background loops until ctx ends, then shuts down gracefully.
func (m *Main) run(ctx context.Context, cfg Config, log *slog.Logger, p *provider) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	servers := []*http.Server{{
		Handler:           p.srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}
	listeners := []net.Listener{ln}
	if cfg.Metrics.Listen != "" {
		mln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
		servers = append(servers, &http.Server{Handler: metricsMux(p.metrics), ReadHeaderTimeout: 10 * time.Second})
		listeners = append(listeners, mln)
		log.Info("metrics listening", "addr", mln.Addr().String())
	}
	served := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { served <- srv.Serve(listeners[i]) }()
	}
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	go sweepLoop(bg, p.srv, log)
	if cfg.Keys.RotateEvery > 0 {
		go rotateLoop(bg, p.keys, p.registry, cfg, log)
	}
	log.Info("signet listening", "issuer", cfg.Issuer, "addr", ln.Addr().String(), "database", p.db.Driver(), "dev", cfg.Dev)
	if cfg.Dev {
		log.Info("dev mode: open the demo relying party", "url", strings.TrimSuffix(cfg.Issuer, "/")+"/demo")
	}
	if m.Started != nil {
		m.Started <- ln.Addr().String()
	}
	return shutdown(ctx, log, servers, served)
}

// shutdown waits for ctx to end (or a server to fail), then stops accepting
// connections and lets in-flight requests finish, for up to 30 s.
func shutdown(ctx context.Context, log *slog.Logger, servers []*http.Server, served <-chan error) error {
	select {
	case err := <-served:
		for _, srv := range servers {
			_ = srv.Close()
		}
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var first error
	for i := len(servers) - 1; i >= 0; i-- { // the metrics listener, then the main one
		if err := servers[i].Shutdown(shutdownCtx); err != nil && first == nil {
			first = fmt.Errorf("shutdown: %w", err)
		}
	}
	for range servers {
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) && first == nil {
			first = err
		}
	}
	if first == nil {
		log.Info("stopped")
	}
	return first
}

// rpcCallers connects to each configured chain's RPC endpoint, for
// contract-wallet (ERC-6492, ERC-1271) and on-chain license checks and, on
// chain 1, ENS names. Connections are lazy: a node that is down fails the
// sign-ins that need it, with a clear error, not start-up.
func rpcCallers(cfg Config, log *slog.Logger) (map[int64]siwe.ContractCaller, error) {
	callers := map[int64]siwe.ContractCaller{}
	for id, u := range cfg.RPC {
		c, err := ethclient.Dial(u)
		if err != nil {
			return nil, fmt.Errorf("rpc for chain %d: %w", id, err)
		}
		// A node for another chain would check signatures against the wrong
		// contracts: refuse it. A node that is down only warns.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		got, err := c.ChainID(ctx)
		cancel()
		switch {
		case err != nil:
			log.Warn("rpc endpoint unreachable; contract-wallet and on-chain license sign-ins on this chain fail until it answers", "chain_id", id)
		case got.Int64() != id:
			return nil, fmt.Errorf("rpc for chain %d answers for chain %s", id, got)
		}
		callers[id] = c
		log.Info("contract wallets enabled", "chain_id", id)
	}
	return callers, nil
}

func opConfig(cfg Config, cryptoKey [32]byte) op.Config {
	oc := op.DefaultConfig(cfg.Issuer)
	oc.Insecure = cfg.Dev || isHTTP(cfg.Issuer)
	oc.Demo = cfg.Dev
	oc.ChainIDs = cfg.Chains
	oc.AccessTokenTTL = time.Duration(cfg.Tokens.AccessTTL)
	oc.IDTokenTTL = time.Duration(cfg.Tokens.IDTTL)
	oc.RefreshTokenTTL = time.Duration(cfg.Tokens.RefreshTTL)
	oc.CodeTTL = time.Duration(cfg.Tokens.CodeTTL)
	oc.ChallengeTTL = time.Duration(cfg.Tokens.ChallengeTTL)
	oc.AuthRequestTTL = time.Duration(cfg.Tokens.AuthRequestTTL)
	oc.CryptoKey = cryptoKey
	oc.KeyPublishDelay = time.Duration(cfg.Keys.PublishDelay)
	oc.MetricsElsewhere = cfg.Metrics.Listen != ""
	oc.SessionTTL = time.Duration(cfg.Sessions.TTL)
	proxies, _ := cfg.trustedProxies() // validated already
	oc.RateLimits = httpapi.RateLimits{
		PerIP: cfg.Limits.PerIP, PerAddress: cfg.Limits.PerAddress,
		Window: time.Duration(cfg.Limits.Window), TrustedProxies: proxies,
	}
	return oc
}

// metricsMux serves /metrics alone, for metrics.listen.
func metricsMux(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	return mux
}

func isHTTP(u string) bool { return len(u) > 7 && u[:7] == "http://" }

// clientCacheTTL is how long serve keeps a client it has read: a change
// made by the admin CLI or another replica applies within it.
const clientCacheTTL = time.Second

func newRegistry(db *storage.DB, dev bool, log *slog.Logger) *clients.Registry {
	opts := []clients.Option{clients.WithCache(clientCacheTTL), clients.WithLogger(log)}
	if dev {
		opts = append(opts, clients.WithInsecureRedirects())
	}
	return clients.NewRegistry(db, opts...)
}

// maxLoggedValue bounds every string a log line carries: request
// parameters reach the log (zitadel logs some itself), and none may be
// written whole.
const maxLoggedValue = 256

// shortenAttr cuts a long string attribute to maxLoggedValue bytes.
func shortenAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindString && len(a.Value.String()) > maxLoggedValue {
		s := strings.ToValidUTF8(a.Value.String()[:maxLoggedValue], "")
		a.Value = slog.StringValue(s + "…(" + strconv.Itoa(len(a.Value.String())) + " bytes)")
	}
	return a
}

func newLogger(c LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: shortenAttr}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// resolveSecret returns the configured secret or, in dev mode, one kept in a
// file beside the SQLite database (created on first start when create is set).
func resolveSecret(cfg Config, log *slog.Logger, create bool) (string, error) {
	if cfg.Secret != "" {
		return cfg.Secret, nil
	}
	path := secretFile(cfg.Database)
	b, err := os.ReadFile(path)
	if err == nil && len(b) >= 32 {
		if cfg.Dev {
			log.Warn("dev mode: using the key-encryption secret kept in a file; set SIGNET_SECRET in production", "file", path)
		}
		return string(b), nil
	}
	if !cfg.Dev || !create {
		return "", errors.New("no secret configured: set SIGNET_SECRET or SIGNET_SECRET_FILE (or secret: or secret_file: in the config file)")
	}
	raw := make([]byte, 36)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		return "", fmt.Errorf("write dev secret: %w", err)
	}
	log.Warn("dev mode: generated a key-encryption secret and stored it in a file; set SIGNET_SECRET in production", "file", path)
	return s, nil
}

// errWrongSecret is what the operator reads when the configured secret does
// not open the keys in the database.
var errWrongSecret = errors.New("SIGNET_SECRET does not open the signing keys stored in this database; use the secret they were sealed with")

// explainSecret turns keyring.ErrWrongSecret into words that name the setting to fix.
func explainSecret(err error) error {
	if errors.Is(err, keyring.ErrWrongSecret) {
		return errWrongSecret
	}
	return err
}

// ensureDemoClient registers (or re-points) the public demo client.
func ensureDemoClient(ctx context.Context, reg *clients.Registry, issuer string) error {
	redirect := demo.RedirectURI(issuer)
	c, err := reg.Get(ctx, demo.ClientID)
	if errors.Is(err, clients.ErrClientNotFound) {
		_, _, err = reg.Add(ctx, clients.Params{
			ID: demo.ClientID, Name: "Signet demo app", Public: true, RedirectURIs: []string{redirect},
		})
		return err
	}
	if err != nil {
		return err
	}
	for _, u := range c.RedirectURIs {
		if u == redirect {
			return nil
		}
	}
	_, err = reg.Update(ctx, demo.ClientID, clients.Changes{AddRedirectURIs: []string{redirect}})
	return err
}

// every runs f each period until ctx ends.
func every(ctx context.Context, period time.Duration, f func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// sweepLoop deletes expired challenges, requests and tokens every minute.
func sweepLoop(ctx context.Context, srv *op.Server, log *slog.Logger) {
	every(ctx, time.Minute, func() {
		if n, err := srv.Sweep(ctx); err != nil {
			log.Warn("sweep failed", "err", err)
		} else if n > 0 {
			log.Debug("swept expired rows", "rows", n)
		}
	})
}

// rotateLoop rotates the signing key once the current one is older than
// keys.rotate_every; with several replicas, exactly one of them does.
func rotateLoop(ctx context.Context, keys *keyring.Ring, reg *clients.Registry, cfg Config, log *slog.Logger) {
	every(ctx, time.Minute, func() {
		keep, err := keyring.Retention(ctx, reg, time.Duration(cfg.Tokens.AccessTTL), time.Duration(cfg.Tokens.IDTTL))
		if err != nil {
			log.Warn("key rotation", "err", err)
			return
		}
		k, err := keys.RotateIfDue(ctx, time.Duration(cfg.Keys.RotateEvery), time.Duration(cfg.Keys.PublishDelay), keep)
		if err != nil {
			log.Warn("key rotation", "err", err)
		} else if k != nil {
			log.Info("rotated signing key", "kid", k.ID, "active_at", k.ActiveAt)
		}
	})
}
