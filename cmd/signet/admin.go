package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-id/signet/clients"
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
	if path, ok := strings.CutPrefix(cfg.Database, "sqlite:"); ok && !c.create {
		// A typo would otherwise create a new, empty database and act on it.
		if _, err := os.Stat(strings.TrimPrefix(path, "//")); errors.Is(err, fs.ErrNotExist) {
			return nil, cfg, fmt.Errorf("database file %s does not exist: check --database (or SIGNET_DATABASE), start `signet serve` once to create it, or pass --create", path)
		}
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

// auditLogger records the admin commands' changes (clients, keys) as
// events on w, as serve's log does.
func auditLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: shortenAttr}))
}
