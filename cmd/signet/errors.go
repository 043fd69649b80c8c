package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/signet-id/signet/clients"
)

// Exit codes: a script can tell what went wrong without reading the text.
const (
	exitOK       = 0
	exitError    = 1 // the command ran and failed (a bad configuration, the database, …)
	exitUsage    = 2 // the command line itself is wrong
	exitNotFound = 3 // the client or key it names does not exist
)

// usageError is a command line that cannot run: unknown command, flags or
// arguments. It exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// jsonErrors marks an error of a command run with --json: it is printed as
// one JSON object, as the command's output would have been.
type jsonErrors struct{ err error }

func (e *jsonErrors) Error() string { return e.err.Error() }
func (e *jsonErrors) Unwrap() error { return e.err }

// exitCode is the process's exit status for err.
func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, clients.ErrClientNotFound), errors.Is(err, errKeyNotFound):
		return exitNotFound
	}
	return exitError
}

// errKeyNotFound reports a signing key that does not exist.
var errKeyNotFound = errors.New("signing key not found")

// printError writes err for a person ("signet: …" and the problems one per
// line) or, for --json, as {"error": …, "problems": […]}.
func printError(w io.Writer, err error) {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return
	}
	var je *jsonErrors
	if !errors.As(err, &je) {
		fmt.Fprintln(w, "signet:", err)
		return
	}
	out := map[string]any{"error": je.err.Error(), "exit_code": exitCode(err)}
	var ve *clients.ValidationError
	var ce *ConfigError
	switch {
	case errors.As(err, &ve):
		out["error"], out["problems"] = "invalid client", ve.Problems
	case errors.As(err, &ce):
		out["error"], out["problems"] = "invalid configuration", ce.Problems
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}
