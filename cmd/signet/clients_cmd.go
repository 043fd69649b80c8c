package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-id/signet/clients"
)

const clientsUsage = `Usage: signet clients <command> [CLIENT_ID] [flags]

Commands:
  add            register an application; prints its client_id and, for a confidential client, its secret once
  list           list the registered applications
  show ID        show one application
  update ID      change an application
  remove ID      remove an application and revoke its tokens
  rotate-secret ID
                 give a confidential application a new secret (the old one stops working)

Run "signet clients <command> -h" for its flags.
`

// clientFlags are the flags of clients add and update.
type clientFlags struct {
	commonFlags
	p                                      clients.Params
	name, license                          string
	redirects, postLogout, scopes, signers stringList
	addRedirects, rmRedirects              stringList
	addSigners, rmSigners                  stringList
	accessTTL, idTTL, refreshTTL           time.Duration
	chainID                                int64
	headless                               bool
	quiet                                  bool
	agent                                  agentFlags
}

// clients runs `signet clients …`.
func (m *Main) clients(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, clientsUsage)
		if len(args) == 0 {
			return usagef("a clients command is required")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	var f clientFlags
	fs := m.newFlagSet("clients "+sub, &f.commonFlags, false)
	switch sub {
	case "add", "update":
		f.register(fs, sub == "add")
	case "list", "show", "remove", "rotate-secret":
	default:
		fmt.Fprint(m.Stderr, clientsUsage)
		return usagef("unknown clients command %q", sub)
	}
	id, err := parseWithID(fs, args, sub != "add" && sub != "list")
	if err != nil {
		return err
	}
	err = m.runClients(ctx, sub, id, fs, &f)
	if err != nil && f.json {
		return &jsonErrors{err}
	}
	return err
}

// register declares the flags of add (or update).
func (f *clientFlags) register(fs *flag.FlagSet, add bool) {
	fs.StringVar(&f.name, "name", "", "display name shown on the login page")
	fs.Var(&f.redirects, "redirect-uri", "redirect URI (repeatable; on update: replaces the list)")
	fs.Var(&f.postLogout, "post-logout-redirect-uri", "post-logout redirect URI (repeatable)")
	fs.Var(&f.scopes, "scope", "allowed scope, known (openid, profile, …) or an API scope of your own such as read (repeatable; naming no known scope allows all known ones)")
	fs.DurationVar(&f.accessTTL, "access-token-ttl", 0, "access token lifetime override (max 336h)")
	fs.DurationVar(&f.idTTL, "id-token-ttl", 0, "ID token lifetime override (max 336h)")
	fs.DurationVar(&f.refreshTTL, "refresh-token-ttl", 0, "refresh token lifetime override (max 336h)")
	f.agent.register(fs)
	if add {
		fs.StringVar(&f.p.ID, "id", "", "fixed client ID (default: random)")
		fs.BoolVar(&f.p.Public, "public", false, "public client: no secret, PKCE required")
		fs.StringVar(&f.license, "license", "", "developer-license contract address; becomes the client ID")
		fs.Int64Var(&f.chainID, "chain-id", 0, "chain of the developer license")
		fs.Var(&f.signers, "signer", "address allowed to sign for a license client (repeatable)")
		fs.BoolVar(&f.p.NoHeadless, "no-headless", false, "refuse the headless sign-in APIs for this client (browser sign-in only)")
		fs.BoolVar(&f.quiet, "quiet", false, "print only the client ID (and, for a confidential client, its secret after a space)")
		fs.StringVar(&f.p.Profile, "profile", "", "serve the client at <issuer>/compat/<client_id> in a wire profile: "+strings.Join(clients.ProfileNames(), ", "))
		return
	}
	fs.Var(&f.addRedirects, "add-redirect-uri", "add a redirect URI (repeatable)")
	fs.Var(&f.rmRedirects, "remove-redirect-uri", "remove a redirect URI (repeatable)")
	fs.Var(&f.addSigners, "add-signer", "add a signer address (repeatable)")
	fs.Var(&f.rmSigners, "remove-signer", "remove a signer address (repeatable)")
	fs.BoolVar(&f.headless, "headless", true, "allow (true) or refuse (false) the headless sign-in APIs")
}

// parseWithID parses flags around a client ID, which may come before or
// after them (or not at all when needID is false).
func parseWithID(fs *flag.FlagSet, args []string, needID bool) (string, error) {
	var id string
	if needID && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return "", usageOf(err)
	}
	rest := fs.Args()
	if needID && id == "" && len(rest) > 0 {
		id, rest = rest[0], rest[1:]
		// Flags after the ID: `update ID --name x`.
		if err := fs.Parse(rest); err != nil {
			return "", usageOf(err)
		}
		rest = fs.Args()
	}
	switch {
	case needID && id == "":
		return "", usagef("usage: signet clients %s CLIENT_ID [flags]", fs.Name()[len("clients "):])
	case len(rest) != 0:
		return "", usagef("unexpected arguments: %s", strings.Join(rest, " "))
	}
	return id, nil
}

// runClients opens the store and runs one clients command.
func (m *Main) runClients(ctx context.Context, sub, id string, fs *flag.FlagSet, f *clientFlags) error {
	db, cfg, err := m.openStore(ctx, &f.commonFlags)
	if err != nil {
		return err
	}
	defer db.Close()
	reg := clients.NewRegistry(db, clients.WithLogger(auditLogger(m.Stderr)))
	switch sub {
	case "add":
		return m.clientsAdd(ctx, reg, cfg, f)
	case "list":
		return m.clientsList(ctx, reg, f.json)
	case "show":
		cl, err := reg.Get(ctx, id)
		if err != nil {
			return err
		}
		return m.showClient(cl, f.json)
	case "update":
		cl, err := reg.Update(ctx, id, f.changes(fs))
		if err != nil {
			return err
		}
		return m.showClient(cl, f.json)
	case "remove":
		return m.clientsRemove(ctx, reg, id, f.json)
	default: // rotate-secret
		return m.clientsRotate(ctx, reg, id, f.json)
	}
}

func (m *Main) clientsAdd(ctx context.Context, reg *clients.Registry, cfg Config, f *clientFlags) error {
	p := f.p
	p.Name, p.RedirectURIs, p.PostLogoutRedirectURIs, p.Scopes = f.name, f.redirects, f.postLogout, f.scopes
	p.AccessTokenTTL, p.IDTokenTTL, p.RefreshTokenTTL = f.accessTTL, f.idTTL, f.refreshTTL
	p.License, p.ChainID, p.Signers = f.license, f.chainID, f.signers
	p.AgentRegistries, p.AgentOffline = f.agent.registries, f.agent.offline
	cl, secret, err := reg.Add(ctx, p)
	if err != nil {
		return err
	}
	if cl.IsLicense() && !slices.Contains(cfg.Chains, cl.LicenseChainID) {
		fmt.Fprintf(m.Stderr, "warning: the license's chain %d is not among the server's chains %v (chains: or SIGNET_CHAINS); its sign-ins fail until it is\n",
			cl.LicenseChainID, cfg.Chains)
	}
	switch {
	case f.json:
		return printJSON(m.Stdout, toClientJSON(cl, secret))
	case f.quiet:
		fmt.Fprintln(m.Stdout, strings.TrimSpace(cl.ID+" "+secret))
		return nil
	}
	printClient(m.Stdout, cl, secret)
	return nil
}

func (m *Main) clientsList(ctx context.Context, reg *clients.Registry, asJSON bool) error {
	list, err := reg.List(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]clientJSON, len(list))
		for i, cl := range list {
			out[i] = toClientJSON(cl, "")
		}
		return printJSON(m.Stdout, map[string]any{"clients": out})
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
		if cl.Profile != "" {
			kind += "+" + cl.Profile
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", cl.ID, cl.Name, kind, strings.Join(cl.RedirectURIs, " "))
	}
	return tw.Flush()
}

// changes is what `clients update` was told to change: only the flags given.
func (f *clientFlags) changes(fs *flag.FlagSet) clients.Changes {
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	ch := clients.Changes{AddRedirectURIs: f.addRedirects, RemoveRedirectURIs: f.rmRedirects, AddSigners: f.addSigners, RemoveSigners: f.rmSigners}
	if set["name"] {
		ch.Name = &f.name
	}
	if set["redirect-uri"] {
		v := []string(f.redirects)
		ch.RedirectURIs = &v
	}
	if set["post-logout-redirect-uri"] {
		v := []string(f.postLogout)
		ch.PostLogoutRedirectURIs = &v
	}
	if set["scope"] {
		v := []string(f.scopes)
		ch.Scopes = &v
	}
	for name, dst := range map[string]**time.Duration{"access-token-ttl": &ch.AccessTokenTTL, "id-token-ttl": &ch.IDTokenTTL, "refresh-token-ttl": &ch.RefreshTokenTTL} {
		if set[name] {
			*dst = map[string]*time.Duration{"access-token-ttl": &f.accessTTL, "id-token-ttl": &f.idTTL, "refresh-token-ttl": &f.refreshTTL}[name]
		}
	}
	f.agent.change(&ch, set)
	if set["headless"] {
		ch.Headless = &f.headless
	}
	return ch
}

func (m *Main) clientsRemove(ctx context.Context, reg *clients.Registry, id string, asJSON bool) error {
	if err := reg.Remove(ctx, id); err != nil {
		return err
	}
	if asJSON {
		return printJSON(m.Stdout, map[string]any{"client_id": clients.NormalizeID(id), "removed": true})
	}
	fmt.Fprintf(m.Stdout, "removed client %s; its tokens are revoked\n", clients.NormalizeID(id))
	return nil
}

func (m *Main) clientsRotate(ctx context.Context, reg *clients.Registry, id string, asJSON bool) error {
	secret, err := reg.RotateSecret(ctx, id)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(m.Stdout, map[string]string{"client_id": clients.NormalizeID(id), "client_secret": secret})
	}
	fmt.Fprintf(m.Stdout, "client_id:      %s\nclient_secret:  %s  (shown once: store it now; the old secret no longer works)\n", clients.NormalizeID(id), secret)
	return nil
}
