// Signet login page.
//
// Finds a browser wallet (EIP-6963 discovery, falling back to the EIP-1193 window.ethereum), asks the
// server for the exact Sign-In with Ethereum (EIP-4361) message, has the wallet sign it with
// personal_sign (EIP-191) and posts the signature back; the server answers with the URL to go to.
// Everything the script needs comes from data-* attributes on #login; there is no inline script.
(function () {
  'use strict';

  var root = document.getElementById('login');
  var button = document.getElementById('signin');
  var statusBox = document.getElementById('status');
  var errorBox = document.getElementById('error');
  var walletsBox = document.getElementById('wallets');
  var walletList = document.getElementById('wallet-list');
  var noWalletBox = document.getElementById('no-wallet');
  var continueButton = document.getElementById('continue');
  if (!root || !button || !statusBox || !errorBox) {
    return;
  }

  var DISCOVERY_MS = 300; // how long wallets get to announce themselves (EIP-6963)
  var STALL_MS = 45000; // after this long without a wallet answer, the button is offered again
  var FETCH_TIMEOUT_MS = 30000; // how long Signet gets to answer one request
  var STORAGE_KEY = 'signet.wallet'; // remembers the chosen wallet's rdns
  var NO_WALLET = 'No Ethereum wallet found. Install a browser wallet such as MetaMask or Rabby, then retry.';
  var NOT_UNDERSTOOD = 'Signet sent an answer this page does not understand. Reload the page, then retry.';

  function isChainId(n) {
    return Number.isSafeInteger(n) && n > 0;
  }

  var cfg = {
    authRequestID: root.dataset.authRequestId || '',
    challengeURL: root.dataset.challengeUrl || '',
    verifyURL: root.dataset.verifyUrl || '',
    chainName: root.dataset.chainName || '',
    clientName: root.dataset.clientName || 'the app',
    chainIDs: (root.dataset.chainIds || '').split(',').map(Number).filter(isChainId)
  };

  // A UserError carries a message already written for the person at the keyboard.
  function UserError(message) {
    this.message = message;
  }

  // SUPERSEDED stops an attempt quietly once the person has started a newer one.
  var SUPERSEDED = {};

  // ---- Wallet discovery (EIP-6963, then EIP-1193) ----

  var providers = []; // {key, info, provider}, in announcement order
  var selectedKey = remembered();
  var discovered = false; // whether the first discovery window has ended
  var renderedKeys = ''; // the providers the chooser currently shows

  window.addEventListener('eip6963:announceProvider', function (event) {
    var d = event.detail;
    if (!d || !d.info || !d.provider || typeof d.provider.request !== 'function') {
      return;
    }
    var key = String(d.info.uuid || d.info.rdns || d.info.name || providers.length);
    for (var i = 0; i < providers.length; i++) {
      if (providers[i].key === key) {
        return;
      }
    }
    providers.push({ key: key, info: d.info, provider: d.provider });
    if (discovered) {
      renderChooser(); // a wallet that answered late
    }
  });

  function discover(ms) {
    window.dispatchEvent(new Event('eip6963:requestProvider'));
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  var discovery = discover(DISCOVERY_MS).then(function () {
    discovered = true;
    renderChooser();
    // Say at once when there is no wallet, rather than after a click.
    if (noWalletBox && providers.length === 0 && !(window.ethereum && typeof window.ethereum.request === 'function')) {
      noWalletBox.hidden = false;
      setStatus('No wallet found yet.');
    }
  });

  function remembered() {
    try {
      return window.localStorage.getItem(STORAGE_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  function remember(entry) {
    if (!entry.info) {
      return;
    }
    try {
      window.localStorage.setItem(STORAGE_KEY, String(entry.info.rdns || entry.key));
    } catch (e) {
      // Storage may be off (private mode); the choice is then simply not remembered.
    }
  }

  function selectedEntry() {
    for (var i = 0; i < providers.length; i++) {
      var p = providers[i];
      if (p.key === selectedKey || (p.info.rdns && p.info.rdns === selectedKey)) {
        return p;
      }
    }
    return providers[0] || null;
  }

  // renderChooser shows each wallet that announced itself (EIP-6963), by name and icon, with a radio
  // button to choose one when there are several.
  function renderChooser() {
    if (!walletsBox || !walletList) {
      return;
    }
    if (providers.length === 0) {
      walletsBox.hidden = true;
      return;
    }
    if (noWalletBox) {
      noWalletBox.hidden = true;
    }
    var keys = providers.map(function (p) { return p.key; }).join('\n');
    if (keys === renderedKeys) {
      return;
    }
    renderedKeys = keys;
    var current = selectedEntry();
    walletList.replaceChildren();
    providers.forEach(function (p) {
      var label = document.createElement('label');
      label.className = 'wallet';
      var input = document.createElement('input');
      input.type = 'radio';
      input.name = 'wallet';
      input.value = p.key;
      input.checked = p === current;
      input.addEventListener('change', function () {
        if (input.checked) {
          selectedKey = p.key;
        }
      });
      var name = String(p.info.name || 'Wallet');
      var initial = name.trim().charAt(0).toUpperCase() || '?';
      var icon = document.createElement('span');
      icon.className = 'wallet-icon';
      // EIP-6963 icons are data: URIs; anything else is not loaded. Under a CSP without
      // img-src data: the image fails and the wallet's initial shows instead.
      var src = typeof p.info.icon === 'string' ? p.info.icon : '';
      if (src.indexOf('data:image/') === 0) {
        var img = document.createElement('img');
        img.alt = '';
        img.addEventListener('error', function () { icon.textContent = initial; });
        img.src = src;
        icon.appendChild(img);
      } else {
        icon.textContent = initial;
      }
      var text = document.createElement('span');
      text.className = 'wallet-name';
      text.textContent = name;
      label.append(input, icon, text);
      walletList.appendChild(label);
    });
    walletsBox.hidden = false;
  }

  // pickWallet returns the chosen EIP-6963 wallet, else window.ethereum, else null.
  async function pickWallet() {
    await discovery;
    if (providers.length === 0 && !(window.ethereum && typeof window.ethereum.request === 'function')) {
      // No wallet yet: one may have been injected after the page loaded, so
      // ask once more before giving up.
      await discover(DISCOVERY_MS);
    }
    var entry = selectedEntry();
    if (entry) {
      return entry;
    }
    var eth = window.ethereum;
    if (eth && typeof eth.request === 'function') {
      return { key: 'window.ethereum', info: null, provider: eth };
    }
    return null;
  }

  // ---- Wallet calls (EIP-1193) ----

  function errorCode(e) {
    if (!e || typeof e !== 'object') {
      return undefined;
    }
    if (e.code !== undefined) {
      return e.code;
    }
    if (e.data && e.data.originalError && e.data.originalError.code !== undefined) {
      return e.data.originalError.code;
    }
    if (e.cause && e.cause.code !== undefined) {
      return e.cause.code;
    }
    return undefined;
  }

  // isRejection recognises "the user said no" (EIP-1193 code 4001, and the spellings some wallets use).
  function isRejection(e) {
    var code = errorCode(e);
    if (code === 4001 || code === '4001' || code === 'ACTION_REJECTED') {
      return true;
    }
    var msg = e && typeof e.message === 'string' ? e.message : '';
    return /user (rejected|denied|cancell?ed)/i.test(msg);
  }

  // walletRequest calls the wallet and turns its errors into sentences; step is 'connect' or 'sign'.
  async function walletRequest(provider, args, step) {
    try {
      return await provider.request(args);
    } catch (e) {
      if (isRejection(e)) {
        throw new UserError(step === 'sign'
          ? 'You rejected the signature request.'
          : 'You declined to connect your wallet to this page.');
      }
      var code = errorCode(e);
      if (code === -32002) {
        throw new UserError('Your wallet already has a request waiting. Open the wallet, finish or dismiss that request, then retry.');
      }
      if (code === 4100) {
        throw new UserError('Your wallet has not allowed this page to use your account. Unlock the wallet, then retry.');
      }
      if (code === 4900 || code === 4901) {
        throw new UserError('Your wallet is not connected to a network. Reconnect it, then retry.');
      }
      var detail = e && typeof e.message === 'string' && e.message ? ': ' + e.message : '.';
      throw new UserError('Your wallet reported an error' + detail);
    }
  }

  // walletStep runs one wallet request for attempt id. Some wallets never answer when their window is
  // closed, so after STALL_MS the button is offered again; a later answer still completes the attempt
  // unless the person has started a new one.
  async function walletStep(id, provider, args, step) {
    var timer = setTimeout(function () {
      if (id === attempt) {
        setBusy(false);
        setStatus('Still waiting for your wallet. If you closed its window, press the button to start again.');
      }
    }, STALL_MS);
    try {
      var result = await walletRequest(provider, args, step);
      if (id !== attempt) {
        throw SUPERSEDED;
      }
      setBusy(true);
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  function parseChainId(v) {
    if (typeof v === 'number') {
      return v;
    }
    if (typeof v === 'string') {
      var s = v.trim();
      return /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : parseInt(s, 10);
    }
    return NaN;
  }

  async function readChainId(id, provider) {
    var chainId = parseChainId(await walletStep(id, provider, { method: 'eth_chainId' }, 'connect'));
    if (!isChainId(chainId)) {
      throw new UserError('Your wallet did not say which network it is on. Reload the page, then retry.');
    }
    return chainId;
  }

  // ensureChain returns an allowed chain ID, asking the wallet to switch when it is on another chain.
  async function ensureChain(id, provider) {
    var current = await readChainId(id, provider);
    if (cfg.chainIDs.length === 0 || cfg.chainIDs.indexOf(current) >= 0) {
      return current;
    }
    var want = cfg.chainIDs[0];
    setStatus('Asking your wallet to switch networks…');
    try {
      await walletStep(id, provider, { method: 'wallet_switchEthereumChain', params: [{ chainId: '0x' + want.toString(16) }] }, 'connect');
      current = await readChainId(id, provider);
    } catch (e) {
      if (e === SUPERSEDED) {
        throw e;
      }
      // Otherwise fall through to the message below: the person switches by hand.
    }
    if (cfg.chainIDs.indexOf(current) >= 0) {
      return current;
    }
    throw new UserError('Your wallet is on chain ' + current + '; switch it to ' +
      (cfg.chainName || 'chain ' + want) + ' and retry.');
  }

  // utf8Hex encodes s as 0x-prefixed hex of its UTF-8 bytes, the form personal_sign expects.
  function utf8Hex(s) {
    var bytes = new TextEncoder().encode(s);
    var out = '0x';
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    }
    return out;
  }

  // ---- Server calls ----

  // postJSON posts body as JSON for attempt id and returns the decoded answer; failures become
  // sentences, using the server's error_description (RFC 6749 §5.2 style) when it sent one.
  async function postJSON(id, url, body) {
    var init = {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
      body: JSON.stringify(body)
    };
    if (window.AbortSignal && typeof AbortSignal.timeout === 'function') {
      init.signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
    }
    var resp;
    var data = null;
    try {
      resp = await fetch(url, init);
      try {
        data = await resp.json();
      } catch (e) {
        data = null;
      }
    } catch (e) {
      if (e && e.name === 'TimeoutError') {
        throw new UserError('Signet did not answer in time. Retry in a moment.');
      }
      throw new UserError('Could not reach Signet. Check your connection, then retry.');
    }
    if (id !== attempt) {
      throw SUPERSEDED;
    }
    if (!resp.ok) {
      var desc = data && (data.error_description || data.message || data.error);
      if (typeof desc === 'string' && desc) {
        throw new UserError(desc);
      }
      if (resp.status === 429) {
        throw new UserError('Too many attempts. Wait a moment, then retry.');
      }
      throw new UserError('Signet could not complete the sign-in (HTTP ' + resp.status + '). Retry in a moment.');
    }
    if (!data || typeof data !== 'object') {
      throw new UserError(NOT_UNDERSTOOD);
    }
    return data;
  }

  // ---- Page state ----

  var busy = false;
  var attempt = 0; // increases with every sign-in attempt; older attempts stop quietly

  function setStatus(text) {
    statusBox.textContent = text;
  }

  function setBusy(on) {
    busy = on;
    button.disabled = on;
    if (continueButton) {
      continueButton.disabled = on;
    }
    if (on) {
      button.setAttribute('aria-busy', 'true');
    } else {
      button.removeAttribute('aria-busy');
    }
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
  }

  function clearError() {
    errorBox.textContent = '';
    errorBox.hidden = true;
  }

  // ---- The sign-in flow ----

  async function signIn() {
    if (busy) {
      return;
    }
    var id = ++attempt;
    setBusy(true);
    clearError();
    try {
      setStatus('Looking for your wallet…');
      var wallet = await pickWallet();
      if (id !== attempt) {
        return;
      }
      if (!wallet) {
        throw new UserError(NO_WALLET);
      }
      remember(wallet);
      var provider = wallet.provider;

      setStatus('Waiting for your wallet…');
      var accounts = await walletStep(id, provider, { method: 'eth_requestAccounts' }, 'connect');
      var address = Array.isArray(accounts) && typeof accounts[0] === 'string' ? accounts[0] : '';
      if (!address) {
        throw new UserError('Your wallet did not share an address. Unlock it, then retry.');
      }
      var chainId = await ensureChain(id, provider);

      setStatus('Preparing the message…');
      var challenge = await postJSON(id, cfg.challengeURL, {
        authRequestID: cfg.authRequestID,
        address: address,
        chainId: chainId
      });
      if (typeof challenge.message !== 'string' || !challenge.message || typeof challenge.challengeId !== 'string') {
        throw new UserError(NOT_UNDERSTOOD);
      }

      setStatus('Waiting for your wallet…');
      var signature = await walletStep(id, provider, {
        method: 'personal_sign',
        params: [utf8Hex(challenge.message), address]
      }, 'sign');
      if (typeof signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(signature)) {
        throw new UserError('Your wallet did not return a signature. Retry.');
      }

      setStatus('Verifying signature…');
      var result = await postJSON(id, cfg.verifyURL, {
        authRequestID: cfg.authRequestID,
        challengeId: challenge.challengeId,
        signature: signature
      });
      if (typeof result.redirect !== 'string' || !result.redirect) {
        throw new UserError(NOT_UNDERSTOOD);
      }
      setStatus('Signed in. Taking you back to ' + cfg.clientName + '…');
      window.location.assign(result.redirect);
      // Stay busy: the page is about to be replaced.
    } catch (e) {
      if (e === SUPERSEDED || id !== attempt) {
        return;
      }
      showError(e instanceof UserError ? e.message : 'Something went wrong on this page. Reload it, then retry.');
      setStatus('Try again when you are ready.');
      setBusy(false);
      button.focus();
      if (!(e instanceof UserError) && window.console) {
        window.console.error(e);
      }
    }
  }

  // continueAs completes the sign-in with the browser's single sign-on session: no wallet needed.
  async function continueAs() {
    if (busy) {
      return;
    }
    var id = ++attempt;
    setBusy(true);
    clearError();
    try {
      setStatus('Signing you in…');
      var result = await postJSON(id, continueButton.dataset.continueUrl, { authRequestID: cfg.authRequestID });
      if (typeof result.redirect !== 'string' || !result.redirect) {
        throw new UserError(NOT_UNDERSTOOD);
      }
      setStatus('Signed in. Taking you back to ' + cfg.clientName + '…');
      window.location.assign(result.redirect);
    } catch (e) {
      if (e === SUPERSEDED || id !== attempt) {
        return;
      }
      showError(e instanceof UserError ? e.message : 'Something went wrong on this page. Reload it, then retry.');
      setStatus('Try again, or sign in with your wallet.');
      setBusy(false);
    }
  }

  button.addEventListener('click', signIn);
  if (continueButton) {
    continueButton.addEventListener('click', continueAs);
  }

  // Coming back with the Back button restores this page from the cache: make it usable again.
  window.addEventListener('pageshow', function (event) {
    if (event.persisted) {
      attempt++;
      setBusy(false);
      setStatus('');
      clearError();
    }
  });
})();
