package main

import (
	"log/slog"
	"time"

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
