package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// walletBinding is the function the injected wallet calls to have Go sign.
const walletBinding = "__signetTestWalletSign"

// Mode says which test wallet, if any, a page gets.
type Mode int

const (
	NoWallet Mode = iota
	Announce      // EIP-6963 announcement plus window.ethereum, like current wallets
	Legacy        // window.ethereum only, like older wallets
)

// walletScript is the injected wallet. %[1]s is the address (a JSON
// string), %[2]s the binding's name (a JSON string), %[3]t whether to
// announce via EIP-6963. Each provider object tags its calls, so the test
// can tell which one the page used; every call is reported to Go, where
// the record survives navigations.
const walletScript = `(function () {
  'use strict';
  var address = %[1]s;
  var binding = %[2]s;
  var announceIt = %[3]t;
  var state = { rejectSign: false, next: 0, pending: {} };
  state.settle = function (id, result, error) {
    var p = state.pending[id];
    if (!p) { return false; }
    delete state.pending[id];
    if (error) {
      var e = new Error(error.message);
      e.code = error.code;
      p.reject(e);
    } else {
      p.resolve(result);
    }
    return true;
  };
  Object.defineProperty(window, '__signetTestWallet', { value: state });

  function rpcError(code, message) {
    var e = new Error(message);
    e.code = code;
    return e;
  }

  function makeProvider(via) {
    var provider = {
      isSignetTestWallet: true,
      request: function (args) {
        var method = args && args.method;
        var params = (args && args.params) || [];
        window[binding](JSON.stringify({ kind: 'call', call: via + ':' + method }));
        switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return Promise.resolve([address]);
        case 'eth_chainId':
          return Promise.resolve('0x1');
        case 'personal_sign':
          if (state.rejectSign) {
            return Promise.reject(rpcError(4001, 'User rejected the request.'));
          }
          return new Promise(function (resolve, reject) {
            var id = ++state.next;
            state.pending[id] = { resolve: resolve, reject: reject };
            window[binding](JSON.stringify({ kind: 'sign', id: id, params: params }));
          });
        default:
          return Promise.reject(rpcError(4200, 'The test wallet does not support ' + method + '.'));
        }
      },
      on: function () { return provider; },
      removeListener: function () { return provider; }
    };
    return provider;
  }

  window.ethereum = makeProvider('window.ethereum');
  if (announceIt) {
    var detail = Object.freeze({
      info: Object.freeze({
        uuid: '7c3f0e52-4b1a-4c8e-9d0f-2a6b5e8c1d34',
        name: 'Signet Test Wallet',
        icon: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxIDEiPjxyZWN0IHdpZHRoPSIxIiBoZWlnaHQ9IjEiLz48L3N2Zz4=',
        rdns: 'id.signet.test-wallet'
      }),
      provider: makeProvider('eip6963')
    });
    var announce = function () {
      window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: detail }));
    };
    window.addEventListener('eip6963:requestProvider', announce);
    announce();
  }
})();`

// answerSign is the Go half of personal_sign: params must be the 0x-hex of
// the message's UTF-8 bytes and the wallet's address (EIP-1474 order).
func (c *Chrome) answerSign(execCtx runtime.ExecutionContextID, call bindingCall) {
	settle := func(result, rpcErr any) {
		r, _ := json.Marshal(result)
		e, _ := json.Marshal(rpcErr)
		expr := fmt.Sprintf("window.__signetTestWallet.settle(%d, %s, %s)", call.ID, r, e)
		if err := chromedp.Run(c.ctx, chromedp.ActionFunc(func(ctx context.Context) error {
			_, exc, err := runtime.Evaluate(expr).WithContextID(execCtx).Do(ctx)
			if err == nil && exc != nil {
				err = fmt.Errorf("%s", exc.Text)
			}
			return err
		})); err != nil {
			c.logf("wallet: settle personal_sign #%d: %v", call.ID, err)
		}
	}
	refuse := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		c.mu.Lock()
		c.walletErrs = append(c.walletErrs, msg)
		c.mu.Unlock()
		settle(nil, map[string]any{"code": -32602, "message": "test wallet: " + msg})
	}
	if len(call.Params) != 2 {
		refuse("personal_sign params = %v, want [hex message, address]", call.Params)
		return
	}
	hexMsg, _ := call.Params[0].(string)
	addr, _ := call.Params[1].(string)
	if !strings.EqualFold(addr, c.w.Address()) {
		refuse("personal_sign for address %v, want %s (params %v)", call.Params[1], c.w.Address(), call.Params)
		return
	}
	raw, err := hexutil.Decode(hexMsg)
	if err != nil {
		refuse("personal_sign message %q is not 0x-hex: %v", call.Params[0], err)
		return
	}
	msg := string(raw)
	sig := c.w.Sign(c.t, msg)
	c.mu.Lock()
	c.signed = append(c.signed, Signed{Message: msg, Signature: sig})
	c.mu.Unlock()
	settle(sig, nil)
}
