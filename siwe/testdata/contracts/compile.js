// Regenerates the *.bin files in this folder and ../../erc6492_validator.hex
// from the *.sol sources with solcjs (see README.md for the exact command).
'use strict';

const fs = require('fs');
const path = require('path');
const solc = require('solc');

const wantVersion = '0.8.30+commit.73712a01';
if (!solc.version().startsWith(wantVersion)) {
  console.error(`want solc ${wantVersion}, have ${solc.version()}`);
  process.exit(1);
}

const dir = __dirname;
const sources = [
  'Wallet1271.sol',
  'WalletFactory.sol',
  'DevLicense.sol',
  'UniversalSigValidator.sol',
  'TestENSRegistry.sol',
  'TestENSResolver.sol',
  'TestAgentRegistry.sol',
];
const input = {
  language: 'Solidity',
  sources: Object.fromEntries(sources.map((f) => [f, { content: fs.readFileSync(path.join(dir, f), 'utf8') }])),
  settings: {
    // Paris (no PUSH0) so that the validator runs on chains that lack Shanghai.
    evmVersion: 'paris',
    // The reference validator is "stack too deep" without the IR pipeline.
    viaIR: true,
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { '*': { '*': ['evm.bytecode.object'] } },
  },
};

const importFile = (p) => {
  try {
    return { contents: fs.readFileSync(path.join(dir, p), 'utf8') };
  } catch (e) {
    return { error: String(e) };
  }
};
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: importFile }));
let failed = false;
for (const e of output.errors || []) {
  console.error(e.formattedMessage);
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);

const want = {
  'Wallet1271.sol': ['Wallet1271'],
  'WalletFactory.sol': ['WalletFactory'],
  'DevLicense.sol': ['DevLicense'],
  'UniversalSigValidator.sol': ['ValidateSigOffchain'],
  'TestENSRegistry.sol': ['TestENSRegistry'],
  'TestENSResolver.sol': ['TestENSResolver'],
  'TestAgentRegistry.sol': ['TestAgentRegistry'],
};
for (const [file, names] of Object.entries(want)) {
  for (const name of names) {
    const hex = output.contracts[file][name].evm.bytecode.object;
    fs.writeFileSync(path.join(dir, `${name}.bin`), hex + '\n');
    console.log(`${name}.bin: ${hex.length / 2} bytes`);
  }
}
const validator = output.contracts['UniversalSigValidator.sol'].ValidateSigOffchain.evm.bytecode.object;
fs.writeFileSync(path.join(dir, '..', '..', 'erc6492_validator.hex'), validator + '\n');
console.log('../../erc6492_validator.hex written');
