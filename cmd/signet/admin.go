package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/storage"
)

// openStore loads the configuration an admin command needs and opens (and
// migrates) the database that serve uses.
func (m *Main) openStore(ctx context.Context, c *commonFlags) (*storage.DB, Config, error) {
	cfg, problems := m.loadConfig(c)
	if p := validateDatabase(cfg.Database); len(p) > 0 {
		problems = append(problems, p...)
	}
	if len(problems) > 0 {
		return nil, cfg, &ConfigError{Problems: problems}
	}
	db, err := storage.Open(ctx, cfg.Database)
	return db, cfg, err
}

// clientJSON is a client as the admin commands print it.
type clientJSON struct {
	ClientID               string   `json:"client_id"`
	ClientSecret           string   `json:"client_secret,omitempty"`
	Name                   string   `json:"name"`
	Public                 bool     `json:"public"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Scopes                 []string `json:"scopes"`
	AccessTokenTTL         string   `json:"access_token_ttl,omitempty"`
	IDTokenTTL             string   `json:"id_token_ttl,omitempty"`
	RefreshTokenTTL        string   `json:"refresh_token_ttl,omitempty"`
	LicenseChainID         int64    `json:"license_chain_id,omitempty"`
	Signers                []string `json:"signers,omitempty"`
	Headless               bool     `json:"headless"`
	Profile                string   `json:"profile,omitempty"`
	agentJSON
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

func toClientJSON(c *clients.Client, secret string) clientJSON {
	ttl := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	signers := make([]string, len(c.Signers))
	for i, s := range c.Signers {
		signers[i] = s.Hex()
	}
	return clientJSON{
		ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public,
		RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Scopes: c.Scopes,
		AccessTokenTTL: ttl(c.AccessTokenTTL), IDTokenTTL: ttl(c.IDTokenTTL), RefreshTokenTTL: ttl(c.RefreshTokenTTL),
		LicenseChainID: c.LicenseChainID, Signers: signers, Headless: !c.NoHeadless, Profile: c.Profile, agentJSON: toAgentJSON(c),
		CreatedAt: c.CreatedAt.Format(time.RFC3339), UpdatedAt: c.UpdatedAt.Format(time.RFC3339),
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printClient(w io.Writer, c *clients.Client, secret string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	j := toClientJSON(c, secret)
	kind := "confidential"
	if c.Public {
		kind = "public (PKCE required)"
	}
	if c.IsLicense() {
		kind += fmt.Sprintf(", developer license on chain %d", c.LicenseChainID)
	}
	fmt.Fprintf(tw, "client_id:\t%s\n", j.ClientID)
	if secret != "" {
		fmt.Fprintf(tw, "client_secret:\t%s\t(shown once: store it now)\n", secret)
	}
	fmt.Fprintf(tw, "name:\t%s\n", j.Name)
	fmt.Fprintf(tw, "type:\t%s\n", kind)
	fmt.Fprintf(tw, "redirect_uris:\t%s\n", strings.Join(j.RedirectURIs, " "))
	if len(j.PostLogoutRedirectURIs) > 0 {
		fmt.Fprintf(tw, "post_logout_redirect_uris:\t%s\n", strings.Join(j.PostLogoutRedirectURIs, " "))
	}
	fmt.Fprintf(tw, "scopes:\t%s\n", strings.Join(j.Scopes, " "))
	if len(j.Signers) > 0 {
		fmt.Fprintf(tw, "signers:\t%s\n", strings.Join(j.Signers, " "))
	}
	if c.NoHeadless {
		fmt.Fprintf(tw, "headless:\toff (browser sign-in only)\n")
	}
	for _, kv := range append(agentLines(j), [][2]string{{"access_token_ttl", j.AccessTokenTTL}, {"id_token_ttl", j.IDTokenTTL}, {"refresh_token_ttl", j.RefreshTokenTTL}}...) {
		if kv[1] != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
		}
	}
	_ = tw.Flush()
}

// showClient prints a stored client (no secret), as JSON or text.
func (m *Main) showClient(cl *clients.Client, asJSON bool) error {
	if asJSON {
		return printJSON(m.Stdout, toClientJSON(cl, ""))
	}
	printClient(m.Stdout, cl, "")
	return nil
}

const clientsUsage = `Usage: signet clients <add|list|show|update|remove|rotate-secret> [flags]`

// clients runs `signet clients …`.
func (m *Main) clients(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(m.Stderr, clientsUsage)
		return errors.New("a clients subcommand is required")
	}
	sub, args := args[0], args[1:]
	var c commonFlags
	fs := m.newFlagSet("clients "+sub, &c, false)
	var (
		p                                  clients.Params
		redirects, postLogout, scopes      stringList
		signers, addRedirects, rmRedirects stringList
		addSigners, rmSigners              stringList
		agent                              agentFlags
		name, license                      string
		accessTTL, idTTL, refreshTTL       time.Duration
		chainID                            int64
		headless                           bool
	)
	switch sub {
	case "add", "update":
		fs.StringVar(&name, "name", "", "display name shown on the login page")
		fs.Var(&redirects, "redirect-uri", "redirect URI (repeatable; on update: replaces the list)")
		fs.Var(&postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
		fs.Var(&scopes, "scope", "allowed scope (repeatable; default: all)")
		fs.DurationVar(&accessTTL, "access-token-ttl", 0, "access token lifetime override (max 336h)")
		fs.DurationVar(&idTTL, "id-token-ttl", 0, "ID token lifetime override (max 336h)")
		fs.DurationVar(&refreshTTL, "refresh-token-ttl", 0, "refresh token lifetime override (max 336h)")
		agent.register(fs)
		if sub == "add" {
			fs.StringVar(&p.ID, "id", "", "fixed client ID (default: random)")
			fs.BoolVar(&p.Public, "public", false, "public client: no secret, PKCE required")
			fs.StringVar(&license, "license", "", "developer-license contract address; becomes the client ID")
			fs.Int64Var(&chainID, "chain-id", 0, "chain of the developer license")
			fs.Var(&signers, "signer", "address allowed to sign for a license client (repeatable)")
			fs.BoolVar(&p.NoHeadless, "no-headless", false, "refuse the headless sign-in APIs for this client (browser sign-in only)")
			fs.StringVar(&p.Profile, "profile", "", "serve the client at <issuer>/compat/<client_id> in a wire profile: "+strings.Join(clients.ProfileNames(), ", "))
		} else {
			fs.BoolVar(&headless, "headless", true, "allow (true) or refuse (false) the headless sign-in APIs")
			fs.Var(&addRedirects, "add-redirect-uri", "add a redirect URI (repeatable)")
			fs.Var(&rmRedirects, "remove-redirect-uri", "remove a redirect URI (repeatable)")
			fs.Var(&addSigners, "add-signer", "add a signer address (repeatable)")
			fs.Var(&rmSigners, "remove-signer", "remove a signer address (repeatable)")
		}
	case "list", "show", "remove", "rotate-secret":
	default:
		fmt.Fprintln(m.Stderr, clientsUsage)
		return fmt.Errorf("unknown clients subcommand %q", sub)
	}
	needID := sub == "show" || sub == "remove" || sub == "rotate-secret" || sub == "update"
	var id string
	// The client ID may come before or after the flags.
	if needID && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if needID && id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if needID && id == "" {
		return fmt.Errorf("usage: signet clients %s CLIENT_ID [flags]", sub)
	} else if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	db, _, err := m.openStore(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	reg := clients.NewRegistry(db)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	switch sub {
	case "add":
		p.Name, p.RedirectURIs, p.PostLogoutRedirectURIs, p.Scopes = name, redirects, postLogout, scopes
		p.AccessTokenTTL, p.IDTokenTTL, p.RefreshTokenTTL = accessTTL, idTTL, refreshTTL
		p.License, p.ChainID, p.Signers = license, chainID, signers
		p.AgentRegistries, p.AgentOffline = agent.registries, agent.offline
		cl, secret, err := reg.Add(ctx, p)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(m.Stdout, toClientJSON(cl, secret))
		}
		printClient(m.Stdout, cl, secret)
		return nil
	case "list":
		list, err := reg.List(ctx)
		if err != nil {
			return err
		}
		if c.json {
			out := make([]clientJSON, len(list))
			for i, cl := range list {
				out[i] = toClientJSON(cl, "")
			}
			return printJSON(m.Stdout, out)
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CLIENT ID\tNAME\tTYPE\tREDIRECT URIS")
		for _, cl := range list {
			kind := "confidential"
			if cl.Public {
				kind = "public"
			}
			if cl.IsLicense() {
				kind += "+license"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " "))
		}
		return tw.Flush()
	case "show":
		cl, err := reg.Get(ctx, id)
		if err != nil {
			return err
		}
		return m.showClient(cl, c.json)
	case "update":
		var ch clients.Changes
		if set["name"] {
			ch.Name = &name
		}
		if set["redirect-uri"] {
			v := []string(redirects)
			ch.RedirectURIs = &v
		}
		if set["post-logout-redirect-uri"] {
			v := []string(postLogout)
			ch.PostLogoutRedirectURIs = &v
		}
		if set["scope"] {
			v := []string(scopes)
			ch.Scopes = &v
		}
		if set["access-token-ttl"] {
			ch.AccessTokenTTL = &accessTTL
		}
		if set["id-token-ttl"] {
			ch.IDTokenTTL = &idTTL
		}
		if set["refresh-token-ttl"] {
			ch.RefreshTokenTTL = &refreshTTL
		}
		if set["headless"] {
			ch.Headless = &headless
		}
		agent.change(&ch, set)
		ch.AddRedirectURIs, ch.RemoveRedirectURIs = addRedirects, rmRedirects
		ch.AddSigners, ch.RemoveSigners = addSigners, rmSigners
		cl, err := reg.Update(ctx, id, ch)
		if err != nil {
			return err
		}
		return m.showClient(cl, c.json)
	case "remove":
		if err := reg.Remove(ctx, id); err != nil {
			return err
		}
		if c.json {
			return printJSON(m.Stdout, map[string]any{"client_id": clients.NormalizeID(id), "removed": true})
		}
		fmt.Fprintf(m.Stdout, "removed client %s; its tokens are revoked\n", clients.NormalizeID(id))
		return nil
	case "rotate-secret":
		secret, err := reg.RotateSecret(ctx, id)
		if err != nil {
			return err
		}
		if c.json {
			return printJSON(m.Stdout, map[string]string{"client_id": clients.NormalizeID(id), "client_secret": secret})
		}
		fmt.Fprintf(m.Stdout, "client_id:      %s\nclient_secret:  %s  (shown once: store it now; the old secret no longer works)\n", clients.NormalizeID(id), secret)
		return nil
	}
	return nil
}

// keyJSON is a signing key as `keys list` prints it.
type keyJSON struct {
	KID       string `json:"kid"`
	Algorithm string `json:"alg"`
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	ActiveAt  string `json:"active_at"`
	RetiredAt string `json:"retired_at,omitempty"`
	DropAt    string `json:"unpublish_at,omitempty"`
}

// keys runs `signet keys list|rotate`.
func (m *Main) keys(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return errors.New("usage: signet keys <list|rotate> [flags]")
	}
	sub, args := args[0], args[1:]
	var c commonFlags
	fs := m.newFlagSet("keys "+sub, &c, false)
	var delay time.Duration
	if sub == "rotate" {
		fs.DurationVar(&delay, "delay", 0, "publish the new key this long before it starts signing")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, cfg, err := m.openStore(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var sealer *keyring.Sealer
	if sub == "rotate" {
		secret, err := resolveSecret(cfg, log, false)
		if err != nil {
			return err
		}
		if sealer, err = keyring.NewSealer(secret); err != nil {
			return err
		}
	}
	ring := keyring.New(db, sealer, time.Now, time.Second)
	if sub == "rotate" {
		reg := clients.NewRegistry(db)
		keep, err := keyring.Retention(ctx, reg, time.Duration(cfg.Tokens.AccessTTL), time.Duration(cfg.Tokens.IDTTL))
		if err != nil {
			return err
		}
		k, err := ring.Rotate(ctx, delay, keep)
		if err != nil {
			return explainSecret(err)
		}
		if c.json {
			return printJSON(m.Stdout, map[string]string{"kid": k.ID, "active_at": k.ActiveAt.Format(time.RFC3339)})
		}
		fmt.Fprintf(m.Stdout, "new signing key %s, signing from %s; older keys stay published for %s\n", k.ID, k.ActiveAt.Format(time.RFC3339), keep)
		return nil
	}
	list, err := ring.List(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]keyJSON, len(list))
	current := false
	for i, k := range list {
		status := "retired"
		switch {
		case k.ActiveAt.After(now):
			status = "next"
		case !current:
			status, current = "current", true
		}
		out[i] = keyJSON{KID: k.ID, Algorithm: k.Algorithm, Status: status, CreatedAt: k.CreatedAt.Format(time.RFC3339), ActiveAt: k.ActiveAt.Format(time.RFC3339)}
		if !k.RetiredAt.IsZero() {
			out[i].RetiredAt = k.RetiredAt.Format(time.RFC3339)
		}
		if !k.DropAt.IsZero() {
			out[i].DropAt = k.DropAt.Format(time.RFC3339)
		}
	}
	if c.json {
		return printJSON(m.Stdout, out)
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tSTATUS\tACTIVE FROM\tUNPUBLISH AT")
	for _, k := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Status, k.ActiveAt, k.DropAt)
	}
	return tw.Flush()
}
