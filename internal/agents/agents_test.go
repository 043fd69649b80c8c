package agents

import (
	"context"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/siwe"
)

var (
	testRegistry = siwe.Registry{ChainID: 84532, Address: common.HexToAddress("0x8004A818BFB912233c491871b3d84c89A494BD9e")}
	owner        = common.HexToAddress("0x00000000000000000000000000000000000000a1")
	agentWallet  = common.HexToAddress("0x00000000000000000000000000000000000000a2")
	stranger     = common.HexToAddress("0x00000000000000000000000000000000000000a3")
)

// fakeRegistry is a Reader over one chain with agents 1 (owner, with an
// agent wallet) and 2 (owner, none); fail makes every read fail.
type fakeRegistry struct {
	chainID int64
	fail    error
	uri     string
}

func (f fakeRegistry) Reads(chainID int64) bool { return chainID == f.chainID }

func (f fakeRegistry) Owner(_ context.Context, _ siwe.Registry, id int64) (common.Address, error) {
	switch {
	case f.fail != nil:
		return common.Address{}, f.fail
	case id == 1 || id == 2:
		return owner, nil
	}
	return common.Address{}, chain.ErrNotRegistered
}

func (f fakeRegistry) Wallet(_ context.Context, _ siwe.Registry, id int64) (common.Address, error) {
	if id == 1 {
		return agentWallet, nil
	}
	return common.Address{}, nil
}

func (f fakeRegistry) TokenURI(context.Context, siwe.Registry, int64) (string, error) {
	return f.uri, nil
}

func TestCheckerRules(t *testing.T) {
	ctx := context.Background()
	allowing := &clients.Client{ID: "app", AgentRegistries: []siwe.Registry{testRegistry}}
	offline := &clients.Client{ID: "app", AgentRegistries: []siwe.Registry{testRegistry}, AgentOffline: true}
	noRegistry := &clients.Client{ID: "app", AgentOffline: true}
	onchain := New(Config{Reader: fakeRegistry{chainID: 84532}})
	unread := New(Config{Reader: fakeRegistry{chainID: 1}})
	dead := New(Config{Reader: fakeRegistry{chainID: 84532, fail: errors.New("connection refused")}})
	agent := func(id int64) siwe.Agent { return siwe.Agent{ID: id, Registry: testRegistry} }
	for _, tc := range []struct {
		name    string
		c       *Checker
		cl      *clients.Client
		account common.Address
		id      int64
		want    string
		check   siwe.Check
		code    siwe.Code
	}{
		{"the owner", onchain, allowing, owner, 1, VerifiedOnchain, 0, 0},
		{"the agent wallet", onchain, allowing, agentWallet, 1, VerifiedOnchain, 0, 0},
		{"another account", onchain, allowing, stranger, 1, "", siwe.CheckAgentNotOwner, siwe.CodeInvalidGrant},
		{"the wallet of another agent", onchain, allowing, agentWallet, 2, "", siwe.CheckAgentNotOwner, siwe.CodeInvalidGrant},
		{"an unknown agent", onchain, allowing, owner, 3, "", siwe.CheckAgentNotRegistered, siwe.CodeInvalidGrant},
		{"a registry the client does not allow", onchain, noRegistry, owner, 1, "", siwe.CheckAgentRegistry, siwe.CodeInvalidGrant},
		{"no RPC, the client accepts offline", unread, offline, stranger, 3, VerifiedOffline, 0, 0},
		{"no RPC, the client does not", unread, allowing, owner, 1, "", siwe.CheckAgentOffline, siwe.CodeInvalidGrant},
		{"no reader at all", New(Config{}), offline, owner, 1, VerifiedOffline, 0, 0},
		{"a dead node", dead, offline, owner, 1, "", 0, siwe.CodeUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.c.Verify(ctx, tc.cl, tc.account, agent(tc.id), false)
			if tc.want != "" {
				if err != nil || f.Verified != tc.want || f.Agent != agent(tc.id) {
					t.Fatalf("Verify = %+v, %v; want %s", f, err, tc.want)
				}
				return
			}
			var e *siwe.Error
			if !errors.As(err, &e) || e.Check != tc.check || e.Code != tc.code {
				t.Fatalf("Verify error %v, want check %v code %v", err, tc.check, tc.code)
			}
			if allowErr := tc.c.Allow(ctx, tc.cl, tc.account, agent(tc.id)); allowErr == nil {
				t.Fatal("Allow accepted what Verify refuses")
			}
		})
	}
}

func TestCheckerRegistrationFile(t *testing.T) {
	ctx := context.Background()
	cl := &clients.Client{ID: "app", AgentRegistries: []siwe.Registry{testRegistry}, AgentOffline: true}
	uri := "data:application/json;base64," + base64.StdEncoding.EncodeToString([]byte(registrationJSON))
	c := New(Config{Reader: fakeRegistry{chainID: 84532, uri: uri}, Files: NewFiles(FilesConfig{})})
	f, err := c.Verify(ctx, cl, owner, siwe.Agent{ID: 1, Registry: testRegistry}, true)
	if err != nil || f.Name != "Agent Smith" || f.Services == "" {
		t.Fatalf("with the agent scope: %+v, %v", f, err)
	}
	if f, _ := c.Verify(ctx, cl, owner, siwe.Agent{ID: 1, Registry: testRegistry}, false); f.Name != "" || f.Services != "" {
		t.Fatalf("without the agent scope: %+v", f)
	}
	broken := New(Config{Reader: fakeRegistry{chainID: 84532, uri: "ipfs://nothing"}, Files: NewFiles(FilesConfig{})})
	if f, err := broken.Verify(ctx, cl, owner, siwe.Agent{ID: 1, Registry: testRegistry}, true); err != nil || f.Name != "" || f.Verified != VerifiedOnchain {
		t.Fatalf("an unreadable file must not fail the sign-in: %+v, %v", f, err)
	}
	offline := New(Config{Files: NewFiles(FilesConfig{})})
	if f, err := offline.Verify(ctx, cl, owner, siwe.Agent{ID: 1, Registry: testRegistry}, true); err != nil || f.Name != "" {
		t.Fatalf("offline: %+v, %v", f, err)
	}
}
