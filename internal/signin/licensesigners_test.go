package signin_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/signin"
	"github.com/signet-id/signet/siwe"
	"github.com/signet-id/signet/storage"
)

// TestDelegatesOnlyForTheLicenseOnItsChain: a license's signers may sign
// for the license's own address on the license's chain, and for nothing else.
func TestDelegatesOnlyForTheLicenseOnItsChain(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	reg := clients.NewRegistry(db)
	license := common.HexToAddress("0x000000000000000000000000000000000000d1d0")
	signer := common.HexToAddress("0x00000000000000000000000000000000000051a9")
	if _, _, err := reg.Add(ctx, clients.Params{Name: "L", License: license.Hex(), ChainID: 137, Signers: []string{signer.Hex()}, RedirectURIs: []string{"https://app.example/cb"}}); err != nil {
		t.Fatal(err)
	}
	d := signin.LicenseSigners{Clients: reg}
	for _, tc := range []struct {
		name    string
		account common.Address
		chain   int64
		want    bool
	}{
		{"the license on its chain", license, 137, true},
		{"the license on another chain", license, 1, false},
		{"another account", common.HexToAddress("0x0000000000000000000000000000000000000bad"), 137, false},
	} {
		got, err := d.Delegates(ctx, &siwe.Challenge{ClientID: license.Hex(), Address: tc.account, ChainID: tc.chain})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(got, signer) != tc.want {
			t.Errorf("%s: delegates %v, want the signer: %v", tc.name, got, tc.want)
		}
	}
}
