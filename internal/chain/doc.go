// Package chain reads from Ethereum chains what sign-ins need besides
// signature checks (which package siwe owns): ENS primary names for
// preferred_username, and ERC-8004 identity registries for agent sign-ins:
// who owns an agent, its agent wallet, its registration file URI. Every
// read goes through siwe.ContractCaller, which go-ethereum's RPC client and
// its simulated backend satisfy, and is bounded in time.
package chain
