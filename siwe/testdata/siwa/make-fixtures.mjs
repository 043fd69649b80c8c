// Writes fixtures.json beside this script: SIWA messages built and signed by
// @buildersgarden/siwa's signSIWAMessage, with the fields that built them and
// what its own parseSIWAMessage reads back. Run it from a directory where the
// package is installed, never from the repository (see README.md):
//
//   mkdir -p /tmp/siwa-fixtures && cd /tmp/siwa-fixtures
//   npm install @buildersgarden/siwa@0.0.24
//   node /path/to/signet/siwe/testdata/siwa/make-fixtures.mjs
//
// The keys are fixed test keys, so every run writes the same file.
import { writeFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const want = '0.0.24';
const require = createRequire(pathToFileURL(join(process.cwd(), 'noop.js')));
const load = (name) => import(pathToFileURL(require.resolve(name)).href);
const pkg = JSON.parse(readFileSync(join(process.cwd(), 'node_modules/@buildersgarden/siwa/package.json'), 'utf8'));
if (pkg.version !== want) {
  console.error(`want @buildersgarden/siwa ${want}, have ${pkg.version}`);
  process.exit(1);
}
// The package's root and ./signer entry points import optional peer
// dependencies (Circle, Privy, …) that a plain install lacks, so the message
// functions come from ./siwa and the local-account signer from its file.
const siwa = await load('@buildersgarden/siwa/siwa');
const { createLocalAccountSigner } = await import(
  pathToFileURL(join(process.cwd(), 'node_modules/@buildersgarden/siwa/dist/signer/local-account.js')).href
);
const { privateKeyToAccount } = await load('viem/accounts');

// Fixed test keys: never use them for anything else.
const keys = [
  '0x8f2a55949038a9610f50fb23b5883af3b4ecb3c3bb792cbcefbd1542c692be63',
  '0xc87509a1c067bbde78beb793e6fa76530b6382a4c0241e5e4a9ec0a0f44dc0d3',
  '0xae6ae8e5ccbfb04590405997ee2d52d2b330726137b875053c36d94e974d162f',
];

const cases = [
  {
    name: 'statement and expiration, Base Sepolia',
    key: keys[0],
    fields: {
      domain: 'siwa.example.org',
      uri: 'https://siwa.example.org/api/siwa/verify',
      statement: 'Authenticate as a registered ERC-8004 agent.',
      agentId: 42,
      agentRegistry: 'eip155:84532:0x8004A818BFB912233c491871b3d84c89A494BD9e',
      chainId: 84532,
      nonce: 'kX9f2mPqR7wLa1b2',
      issuedAt: '2026-02-05T12:00:00.000Z',
      expirationTime: '2026-02-05T12:05:00.000Z',
    },
  },
  {
    name: 'no statement, not before and request ID, a port in the domain',
    key: keys[1],
    fields: {
      domain: 'localhost:8080',
      uri: 'http://localhost:8080/compat/agents/api/siwa/verify',
      agentId: 7,
      agentRegistry: 'eip155:1:0x8004A169FB4a3325136EB29fA0ceB6D2e539a432',
      chainId: 1,
      nonce: '0mh2x9k3aB7cD8eF9gH0iJ1k',
      issuedAt: '2026-03-01T08:30:15.250Z',
      expirationTime: '2026-03-01T08:35:15.250Z',
      notBefore: '2026-03-01T08:30:00.000Z',
      requestId: 'req-8004',
    },
  },
  {
    name: 'the largest safe agent ID, Ethereum Sepolia',
    key: keys[2],
    fields: {
      domain: 'agents.example.com',
      uri: 'https://agents.example.com',
      statement: 'Sign in to Example with your agent.',
      agentId: 9007199254740991,
      agentRegistry: 'eip155:11155111:0x8004a6090Cd10A7288092483047B097295Fb8847',
      chainId: 11155111,
      nonce: 'Zz9Yy8Xx7Ww6Vv5U',
      issuedAt: '2026-04-10T23:59:30Z',
      expirationTime: '2026-04-11T00:04:30Z',
    },
  },
];

const fixtures = [];
for (const c of cases) {
  const signer = createLocalAccountSigner(privateKeyToAccount(c.key));
  const { message, signature, address } = await siwa.signSIWAMessage(c.fields, signer);
  fixtures.push({ name: c.name, fields: c.fields, address, message, signature, parsed: siwa.parseSIWAMessage(message) });
}
const out = join(dirname(fileURLToPath(import.meta.url)), 'fixtures.json');
writeFileSync(out, JSON.stringify({ generator: `@buildersgarden/siwa@${pkg.version} signSIWAMessage`, fixtures }, null, 2) + '\n');
console.log(`${out}: ${fixtures.length} fixtures`);
