package main

import (
	"flag"
	"log/slog"
	"strings"
	"time"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/agents"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/siwe"
)

// newAgents reads agent registries on the chains with an RPC endpoint, and
// their registration files, never from the operator's own network unless
// agents.allow_private_files says so.
func newAgents(cfg Config, callers map[int64]siwe.ContractCaller, log *slog.Logger) *agents.Checker {
	return agents.New(agents.Config{
		Reader: chain.NewAgentRegistries(callers, time.Duration(cfg.RPCTimeout)),
		Files:  agents.NewFiles(agents.FilesConfig{AllowPrivate: cfg.Agents.AllowPrivateFiles}),
		Log:    log,
	})
}

// agentFlags are the agent flags of clients add and update.
type agentFlags struct {
	registries stringList
	offline    bool
}

// register adds --agent-registry and --agent-offline to fs.
func (a *agentFlags) register(fs *flag.FlagSet) {
	fs.Var(&a.registries, "agent-registry", "ERC-8004 registry eip155:<chain>:<address> whose agents may sign in (repeatable; on update: replaces the list)")
	fs.BoolVar(&a.offline, "agent-offline", false, "accept agents of registries whose chain has no RPC endpoint, unverified (agent_verified: offline)")
}

// change sets in ch what an update's agent flags change; set names the
// flags given.
func (a *agentFlags) change(ch *clients.Changes, set map[string]bool) {
	if set["agent-registry"] {
		v := []string(a.registries)
		ch.AgentRegistries = &v
	}
	if set["agent-offline"] {
		ch.AgentOffline = &a.offline
	}
}

// agentJSON is what the admin commands print of a client's agent settings.
type agentJSON struct {
	AgentRegistries []string `json:"agent_registries,omitempty"`
	AgentOffline    bool     `json:"agent_offline,omitempty"`
}

func toAgentJSON(c *clients.Client) agentJSON {
	j := agentJSON{AgentOffline: c.AgentOffline}
	for _, r := range c.AgentRegistries {
		j.AgentRegistries = append(j.AgentRegistries, r.String())
	}
	return j
}

// agentLines are the text lines of a client's agent settings, "" for none.
func agentLines(j clientJSON) [][2]string {
	offline := ""
	if j.AgentOffline {
		offline = "yes (agents of registries without an RPC endpoint sign in unverified)"
	}
	return [][2]string{{"agent_registries", strings.Join(j.AgentRegistries, " ")}, {"agent_offline", offline}}
}
