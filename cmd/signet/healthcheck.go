package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// healthcheck asks the local server's /ready and succeeds when it answers
// 200: a container's health check, in an image that has no shell or curl.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	var c commonFlags
	fs := m.newFlagSet("healthcheck", &c, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, _ := m.loadConfig(&c)
	u, err := readyURL(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %s answered %s", u, resp.Status)
	}
	fmt.Fprintln(m.Stdout, "ready")
	return nil
}

// readyURL is /ready on the local listener, below the issuer's path.
func readyURL(cfg Config) (string, error) {
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", cfg.Listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	path := ""
	if u, err := url.Parse(cfg.Issuer); err == nil {
		path = strings.TrimSuffix(u.Path, "/")
	}
	return "http://" + net.JoinHostPort(host, port) + path + "/ready", nil
}
