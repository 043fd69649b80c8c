package main

import (
	"context"
	"fmt"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/keyring"
	"github.com/signet-id/signet/storage"
)

const keysUsage = `Usage: signet keys <command> [flags]

Commands:
  list           list the signing keys still published, newest first
  rotate         publish a new signing key (--delay: before it starts signing); needs the secret

Run "signet keys <command> -h" for its flags.
`

// keys runs `signet keys list|rotate`.
func (m *Main) keys(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(m.Stdout, keysUsage)
		if len(args) == 0 {
			return usagef("a keys command is required")
		}
		return nil
	}
	sub, args := args[0], args[1:]
	if sub != "list" && sub != "rotate" {
		fmt.Fprint(m.Stderr, keysUsage)
		return usagef("unknown keys command %q", sub)
	}
	var c commonFlags
	fs := m.newFlagSet("keys "+sub, &c, false)
	var delay time.Duration
	if sub == "rotate" {
		fs.DurationVar(&delay, "delay", 0, "publish the new key this long before it starts signing")
	}
	if err := fs.Parse(args); err != nil {
		return usageOf(err)
	}
	if fs.NArg() != 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	err := m.runKeys(ctx, sub, &c, delay)
	if err != nil && c.json {
		return &jsonErrors{err}
	}
	return err
}

func (m *Main) runKeys(ctx context.Context, sub string, c *commonFlags, delay time.Duration) error {
	db, cfg, err := m.openStore(ctx, c)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "list" {
		return m.keysList(ctx, keyring.New(db, nil, time.Now, time.Second), c.json)
	}
	secret, err := resolveSecret(cfg, slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), false)
	if err != nil {
		return err
	}
	sealer, err := keyring.NewSealer(secret)
	if err != nil {
		return err
	}
	return m.keysRotate(ctx, db, sealer, cfg, delay, c.json)
}

func (m *Main) keysRotate(ctx context.Context, db *storage.DB, sealer *keyring.Sealer, cfg Config, delay time.Duration, asJSON bool) error {
	ring := keyring.New(db, sealer, time.Now, time.Second)
	ring.Log = auditLogger(m.Stderr)
	keep, err := keyring.Retention(ctx, clients.NewRegistry(db), time.Duration(cfg.Tokens.AccessTTL), time.Duration(cfg.Tokens.IDTTL))
	if err != nil {
		return err
	}
	k, err := ring.Rotate(ctx, delay, keep)
	if err != nil {
		return explainSecret(err)
	}
	if asJSON {
		return printJSON(m.Stdout, map[string]string{"kid": k.ID, "active_at": k.ActiveAt.Format(time.RFC3339)})
	}
	fmt.Fprintf(m.Stdout, "new signing key %s, signing from %s; older keys stay published for %s\n", k.ID, k.ActiveAt.Format(time.RFC3339), keep)
	return nil
}

func (m *Main) keysList(ctx context.Context, ring *keyring.Ring, asJSON bool) error {
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
	if asJSON {
		return printJSON(m.Stdout, map[string]any{"keys": out})
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tSTATUS\tACTIVE FROM\tUNPUBLISH AT")
	for _, k := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Status, k.ActiveAt, k.DropAt)
	}
	return tw.Flush()
}
