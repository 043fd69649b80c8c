package op_test

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"golang.org/x/oauth2"

	"github.com/signet-id/signet/clients"
	"github.com/signet-id/signet/internal/chain"
	"github.com/signet-id/signet/internal/chaintest"
	"github.com/signet-id/signet/op"
)

// TestENSNameInTokens: with a chain-1 name resolver configured, scope
// profile gives preferred_username = the account's verified ENS name, in the
// ID token and userinfo; an account without one keeps its address.
func TestENSNameInTokens(t *testing.T) {
	ens := chaintest.NewENS(t)
	alice, bob := newWallet(t), newWallet(t)
	aliceAddr := common.HexToAddress(alice.Address())
	ens.SetAddr(t, "alice.eth", aliceAddr)
	ens.SetReverse(t, aliceAddr, "alice.eth")
	resolver := chain.NewENS(ens.Chain.Client(), ens.Registry, time.Second)
	ts := newTestServerFull(t, "sqlite:"+filepath.Join(t.TempDir(), "signet.db"), nil, "", func(d *op.Deps) { d.Names = resolver })
	c, secret := ts.addClient(t, clients.Params{RedirectURIs: []string{testRedirect}})
	app := newRP(t, ts, c.ID, secret)

	for _, tc := range []struct {
		w    *wallet
		want string
	}{{alice, "alice.eth"}, {bob, bob.Address()}} {
		n := nonceFor(t, ts, map[string]any{"address": tc.w.Address(), "client_id": c.ID, "scope": "openid profile"})
		msg := n["message"].(string)
		resp, tok := verifyJSON(t, ts, msg, tc.w.Sign(t, msg))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("verify: %d %v", resp.StatusCode, tok)
		}
		_, claims := verifyIDToken(t, app, tok["id_token"].(string))
		if claims["preferred_username"] != tc.want {
			t.Errorf("preferred_username = %v, want %s", claims["preferred_username"], tc.want)
		}
		ui, err := app.provider.UserInfo(app.ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok["access_token"].(string)}))
		if err != nil {
			t.Fatal(err)
		}
		var uiClaims map[string]any
		_ = ui.Claims(&uiClaims)
		if uiClaims["preferred_username"] != tc.want {
			t.Errorf("userinfo preferred_username = %v, want %s", uiClaims["preferred_username"], tc.want)
		}
	}
}
