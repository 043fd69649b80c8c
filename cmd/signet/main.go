// Command signet runs the Signet OpenID provider and administers it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Environ: os.Environ()}
	err := m.Run(ctx, os.Args[1:])
	printError(os.Stderr, err)
	os.Exit(exitCode(err))
}

// Main is the program with its environment injected, so tests run it whole.
type Main struct {
	Stdin   io.Reader // nil: os.Stdin
	Stdout  io.Writer
	Stderr  io.Writer
	Getenv  func(string) string
	Environ []string
	// Started, when set, receives the listening address once serve accepts
	// connections.
	Started chan<- string
}

const usage = `Usage: signet <command> [flags]

Commands:
  serve                 run the OpenID provider (--dev for a local demo setup)
  clients add|list|show|update|remove|rotate-secret
                        manage registered applications
  keys list|rotate      list or rotate the token-signing keys
  healthcheck           exit 0 when the local server is ready (for container health checks)
  sign --key 0x… < msg  sign a message as a wallet's personal_sign does (to try the headless APIs)
  completion bash|zsh|fish
                        print a shell completion script
  version               print the version and the commit it was built from

Every command accepts --config FILE and --database DSN (or SIGNET_DATABASE).
Run "signet <command> -h" for its flags. Exit codes: 0 done, 1 failed,
2 a wrong command line, 3 the client or key named does not exist.
`

// Run dispatches one command line.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usagef("a command is required")
	}
	switch args[0] {
	case "serve":
		return m.serve(ctx, args[1:])
	case "clients":
		return m.clients(ctx, args[1:])
	case "keys":
		return m.keys(ctx, args[1:])
	case "healthcheck":
		return m.healthcheck(ctx, args[1:])
	case "sign":
		return m.sign(args[1:])
	case "completion":
		return m.completion(args[1:])
	case "version", "--version", "-v":
		return m.version(args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return usagef("unknown command %q", args[0])
}

// commonFlags are the flags every command shares.
type commonFlags struct {
	config   string
	database string
	issuer   string
	listen   string
	dev      bool
	json     bool
	create   bool
}

func (m *Main) newFlagSet(name string, c *commonFlags, serve bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.config, "config", "", "YAML configuration file")
	fs.StringVar(&c.database, "database", "", "database: sqlite:PATH or postgres://… (env SIGNET_DATABASE)")
	fs.BoolVar(&c.dev, "dev", false, "dev mode: http://localhost:8080, sqlite:signet.db, a demo client and /demo")
	if serve {
		fs.StringVar(&c.issuer, "issuer", "", "issuer URL (env SIGNET_ISSUER)")
		fs.StringVar(&c.listen, "listen", "", "listen address, e.g. :8080 (env SIGNET_LISTEN)")
	} else {
		fs.BoolVar(&c.json, "json", false, "print one JSON object (errors too)")
		fs.BoolVar(&c.create, "create", false, "create the SQLite database file if it does not exist (serve creates it on first start)")
	}
	return fs
}

// loadConfig layers defaults, file, environment and flags.
func (m *Main) loadConfig(c *commonFlags) (Config, []string) {
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	cfg := defaultConfig()
	var problems []string
	path := c.config
	if path == "" {
		path = m.Getenv("SIGNET_CONFIG")
	}
	if path != "" {
		if err := cfg.loadFile(path); err != nil {
			problems = append(problems, err.Error())
		}
	}
	problems = append(problems, cfg.loadEnv(m.Getenv, m.Environ)...)
	if c.issuer != "" {
		cfg.Issuer = c.issuer
	}
	if c.listen != "" {
		cfg.Listen = c.listen
	}
	if c.database != "" {
		cfg.Database = c.database
	}
	if c.dev {
		cfg.Dev = true
	}
	cfg.applyDev()
	problems = append(problems, cfg.loadSecretFile()...)
	return cfg, problems
}

// joinProblems merges loading problems with validation problems.
func joinProblems(loading []string, err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		loading = append(loading, ce.Problems...)
	} else if err != nil {
		return err
	}
	if len(loading) == 0 {
		return nil
	}
	return &ConfigError{Problems: loading}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
