package main

import (
	"fmt"
	"strings"
)

// commandWords are the words each command takes, for completion.
var commandWords = map[string][]string{
	"":            {"serve", "clients", "keys", "healthcheck", "sign", "completion", "version", "help"},
	"clients":     {"add", "list", "show", "update", "remove", "rotate-secret"},
	"keys":        {"list", "rotate"},
	"completion":  {"bash", "zsh", "fish"},
	"serve":       {"--dev", "--config", "--database", "--issuer", "--listen"},
	"healthcheck": {"--config", "--database", "--listen"},
}

// completion prints a completion script for a shell; install it with, e.g.,
//
//	signet completion bash > /etc/bash_completion.d/signet
func (m *Main) completion(args []string) error {
	if len(args) != 1 {
		return usagef("usage: signet completion bash|zsh|fish")
	}
	switch args[0] {
	case "bash":
		fmt.Fprint(m.Stdout, bashCompletion())
	case "zsh":
		fmt.Fprint(m.Stdout, "autoload -U +X bashcompinit && bashcompinit\n"+bashCompletion())
	case "fish":
		fmt.Fprint(m.Stdout, fishCompletion())
	default:
		return usagef("unknown shell %q: want bash, zsh or fish", args[0])
	}
	return nil
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString("# signet completion for bash (and zsh through bashcompinit)\n_signet() {\n")
	b.WriteString("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" cmd=\"${COMP_WORDS[1]}\" words\n")
	b.WriteString("  if [ \"$COMP_CWORD\" -eq 1 ]; then words=\"" + strings.Join(commandWords[""], " ") + "\"\n")
	b.WriteString("  else case \"$cmd\" in\n")
	for _, c := range []string{"clients", "keys", "completion", "serve", "healthcheck"} {
		fmt.Fprintf(&b, "    %s) words=%q ;;\n", c, strings.Join(commandWords[c], " ")+" --config --database --json")
	}
	b.WriteString("  esac; fi\n  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n}\ncomplete -F _signet signet\n")
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# signet completion for fish\ncomplete -c signet -f\n")
	for _, w := range commandWords[""] {
		fmt.Fprintf(&b, "complete -c signet -n __fish_use_subcommand -a %s\n", w)
	}
	for _, c := range []string{"clients", "keys", "completion"} {
		fmt.Fprintf(&b, "complete -c signet -n '__fish_seen_subcommand_from %s' -a %q\n", c, strings.Join(commandWords[c], " "))
	}
	b.WriteString("complete -c signet -l config -r -d 'YAML configuration file'\n")
	b.WriteString("complete -c signet -l database -r -d 'sqlite:PATH or postgres://…'\n")
	b.WriteString("complete -c signet -l json -d 'print one JSON object'\n")
	return b.String()
}
