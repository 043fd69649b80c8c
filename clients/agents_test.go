package clients

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/signet-id/signet/siwe"
)

const (
	baseSepoliaRegistry = "eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e"
	mainnetRegistry     = "eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432"
)

func mustRegistry(t *testing.T, s string) siwe.Registry {
	t.Helper()
	r, err := siwe.ParseRegistry(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAgentRegistries(t *testing.T) {
	ctx := context.Background()
	reg, store, _ := newTestRegistry()
	c, _, err := reg.Add(ctx, Params{
		Name: "Agents", RedirectURIs: []string{"https://app.example/cb"}, AgentOffline: true,
		AgentRegistries: []string{strings.ToLower(baseSepoliaRegistry), baseSepoliaRegistry, mainnetRegistry},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []siwe.Registry{mustRegistry(t, baseSepoliaRegistry), mustRegistry(t, mainnetRegistry)}
	if !reflect.DeepEqual(c.AgentRegistries, want) || !c.AgentOffline || !reflect.DeepEqual(store.stored(c.ID).AgentRegistries, want) {
		t.Fatalf("registries %v offline %v, want %v and true", c.AgentRegistries, c.AgentOffline, want)
	}
	if !c.AgentRegistryAllowed(want[1]) || c.AgentRegistryAllowed(siwe.Registry{ChainID: 84532, Address: want[1].Address}) {
		t.Fatal("AgentRegistryAllowed does not match chain and address")
	}

	only := []string{mainnetRegistry}
	offline := false
	c, err = reg.Update(ctx, c.ID, Changes{AgentRegistries: &only, AgentOffline: &offline})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.AgentRegistries, want[1:]) || c.AgentOffline {
		t.Fatalf("after the update: %v offline %v", c.AgentRegistries, c.AgentOffline)
	}

	bad := []string{"eip155:1:0x8004a169FB4a3325136EB29fA0ceB6D2e539a432", "0x8004A169FB4a3325136EB29fA0ceB6D2e539a432"}
	if _, err := reg.Update(ctx, c.ID, Changes{AgentRegistries: &bad}); len(problemsOf(t, err)) != 2 {
		t.Fatalf("bad registries: %v", err)
	}
	if _, _, err := reg.Add(ctx, Params{Name: "X", RedirectURIs: []string{"https://app.example/cb"}, AgentRegistries: bad[:1]}); len(problemsOf(t, err)) != 1 {
		t.Fatalf("a bad registry on add: %v", err)
	}
}
