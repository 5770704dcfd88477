// Core benchmark: raw node:crypto primitives, jose, and Writ, in one run, on the same payload with the same checks.
// Prints a Markdown table of medians (ops/s over several rounds) with ratios against the baselines and the targets
// of issue 2, and writes the figures to bench/results/core.json.
import { createHmac, sign as cryptoSign, verify as cryptoVerify, timingSafeEqual } from 'node:crypto';
import * as jose from 'jose';
import {
  AccessTokenSigner,
  KeySchedule,
  Secret,
  StaticKeySource,
  Verifier,
} from '../packages/verifier/dist/src/index.js';
import { median, writeResults } from './_lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 400);
const ISSUER = 'https://issuer.example';
const AUDIENCE = 'https://api.example';

const keys = new KeySchedule({
  roots: [{ generation: 1, secret: new Secret(Buffer.alloc(32, 1), 'bench') }],
  maxTokenLifetime: 3600,
});
const signer = new AccessTokenSigner({ keys, issuer: ISSUER });
const request = { sub: 'user-1', aud: AUDIENCE, clientId: 'client-1', scope: 'read write', lifetime: 3600 };
const claims = signer.claims(request);
const edToken = signer.sign(claims).token;
const hsToken = signer.sign(claims, { mac: true }).token;
const signing = keys.signingKey();
const mac = keys.audienceMacKey(AUDIENCE);

const split = (t) => {
  const i = t.lastIndexOf('.');
  return { input: Buffer.from(t.slice(0, i)), sig: Buffer.from(t.slice(i + 1), 'base64url') };
};
const ed = split(edToken);
const hs = split(hsToken);

// A pool of distinct tokens, so "first-seen" verifications never hit the cache.
const pool = Array.from({ length: 40_000 }, () => signer.sign(signer.claims(request)).token);
let poolIndex = 0;

const common = { issuer: ISSUER, audience: AUDIENCE };
// What jose is given, and what a gateway has: the public keys of the JWKS. The key schedule itself (the issuer's
// own nodes) holds the private halves and checks EdDSA by re-signing: reported on rows of its own.
const publicKeys = new StaticKeySource({ jwks: keys.jwks() });
const firstSeen = (source) => () =>
  new Verifier({ ...common, keys: source, cache: { maxEntries: 100_000, maxBytes: 256 * 2 ** 20 } });
const writFirstVerifier = firstSeen(publicKeys);
const issuerFirstVerifier = firstSeen(keys);
let writFirst = writFirstVerifier();
let issuerFirst = issuerFirstVerifier();
const writCached = new Verifier({ ...common, keys: publicKeys });
const writUncached = new Verifier({ ...common, keys: publicKeys, cache: false });
const writHs = new Verifier({
  ...common,
  keys: new StaticKeySource({ keys: [mac] }),
  algorithms: ['HS256'],
  cache: false,
});
const joseOptions = {
  ...common,
  typ: 'at+jwt',
  requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id'],
};

const rawVerifyAsync = () =>
  new Promise((resolve, reject) =>
    cryptoVerify(null, ed.input, signing.key, ed.sig, (e, ok) =>
      e || !ok ? reject(e ?? new Error('bad')) : resolve(),
    ),
  );

const cases = [
  { name: 'raw Ed25519 verify (sync)', c: 1, sync: () => cryptoVerify(null, ed.input, signing.key, ed.sig) },
  { name: 'raw Ed25519 verify (thread pool)', c: 1, fn: rawVerifyAsync },
  { name: 'raw Ed25519 verify (thread pool)', c: 32, fn: rawVerifyAsync },
  {
    name: 'jose jwtVerify EdDSA',
    c: 1,
    fn: () => jose.jwtVerify(edToken, signing.key, { ...joseOptions, algorithms: ['EdDSA'] }),
  },
  {
    name: 'jose jwtVerify EdDSA',
    c: 32,
    fn: () => jose.jwtVerify(edToken, signing.key, { ...joseOptions, algorithms: ['EdDSA'] }),
  },
  {
    name: 'Writ verify EdDSA (first-seen)',
    c: 1,
    fn: () => writFirst.verify(pool[poolIndex++ % pool.length]),
    reset: true,
  },
  {
    name: 'Writ verify EdDSA (first-seen)',
    c: 32,
    fn: () => writFirst.verify(pool[poolIndex++ % pool.length]),
    reset: true,
  },
  {
    name: 'Writ verify EdDSA, issuer-side re-sign (first-seen)',
    c: 1,
    fn: () => issuerFirst.verify(pool[poolIndex++ % pool.length]),
    reset: true,
  },
  {
    name: 'Writ verify EdDSA, issuer-side re-sign (first-seen)',
    c: 32,
    fn: () => issuerFirst.verify(pool[poolIndex++ % pool.length]),
    reset: true,
  },
  { name: 'Writ verify EdDSA (cache off)', c: 1, fn: () => writUncached.verify(pool[poolIndex++ % pool.length]) },
  { name: 'Writ verify EdDSA (cached)', c: 1, fn: () => writCached.verify(edToken) },
  {
    name: 'raw HMAC-SHA256 verify',
    c: 1,
    sync: () => timingSafeEqual(createHmac('sha256', mac.key).update(hs.input).digest(), hs.sig),
  },
  {
    name: 'jose jwtVerify HS256',
    c: 1,
    fn: () => jose.jwtVerify(hsToken, mac.key, { ...joseOptions, algorithms: ['HS256'] }),
  },
  { name: 'Writ verify HS256', c: 1, fn: () => writHs.verify(hsToken) },
  { name: 'raw Ed25519 sign (sync)', c: 1, sync: () => cryptoSign(null, ed.input, signing.privateKey) },
  { name: 'Writ sign EdDSA (sync)', c: 1, sync: () => signer.sign(claims) },
  {
    name: 'raw Ed25519 sign (thread pool)',
    c: 32,
    fn: () =>
      new Promise((res, rej) => cryptoSign(null, ed.input, signing.privateKey, (e, s) => (e ? rej(e) : res(s)))),
  },
  { name: 'Writ sign EdDSA (thread pool)', c: 32, fn: () => signer.signAsync(claims) },
  {
    name: 'jose SignJWT EdDSA',
    c: 1,
    fn: () =>
      new jose.SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid })
        .sign(signing.privateKey),
  },
];

async function measure(c) {
  const deadline = performance.now() + ROUND_MS;
  let ops = 0;
  const t0 = performance.now();
  if (c.sync) {
    while (performance.now() < deadline) {
      for (let i = 0; i < 100; i++) c.sync();
      ops += 100;
    }
  } else {
    await Promise.all(
      Array.from({ length: c.c }, async () => {
        while (performance.now() < deadline) {
          await c.fn();
          ops++;
        }
      }),
    );
  }
  return ops / ((performance.now() - t0) / 1000);
}

const samples = new Map(cases.map((c) => [`${c.name} @${c.c}`, []]));
for (const c of cases) await measure({ ...c }); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order, so a slow patch of a shared machine does not always fall on the same cases.
  for (const c of r % 2 ? [...cases].reverse() : cases) {
    if (c.reset) {
      writFirst = writFirstVerifier();
      issuerFirst = issuerFirstVerifier();
    }
    globalThis.gc?.();
    samples.get(`${c.name} @${c.c}`).push(await measure(c));
  }
}
const m = Object.fromEntries([...samples].map(([k, v]) => [k, median(v)]));
const get = (name, c) => m[`${name} @${c}`];

console.log(`node ${process.version}, ${ROUNDS} rounds of ${ROUND_MS} ms, median ops/s\n`);
console.log('| case | concurrency | ops/s (median) |');
console.log('| --- | ---: | ---: |');
for (const c of cases) console.log(`| ${c.name} | ${c.c} | ${Math.round(get(c.name, c.c)).toLocaleString('en')} |`);

const ratios = [
  ['Writ EdDSA verify / jose, c=1', get('Writ verify EdDSA (first-seen)', 1) / get('jose jwtVerify EdDSA', 1), 1.2],
  ['Writ EdDSA verify / jose, c=32', get('Writ verify EdDSA (first-seen)', 32) / get('jose jwtVerify EdDSA', 32), 1.1],
  [
    'Writ EdDSA verify / raw thread pool, c=1',
    get('Writ verify EdDSA (first-seen)', 1) / get('raw Ed25519 verify (thread pool)', 1),
    0.9,
  ],
  [
    'Writ EdDSA verify / raw thread pool, c=32',
    get('Writ verify EdDSA (first-seen)', 32) / get('raw Ed25519 verify (thread pool)', 32),
    0.9,
  ],
  ['Writ HS256 verify / jose HS256', get('Writ verify HS256', 1) / get('jose jwtVerify HS256', 1), 5],
  [
    'Writ cached / first-seen verify, c=1',
    get('Writ verify EdDSA (cached)', 1) / get('Writ verify EdDSA (first-seen)', 1),
    10,
  ],
  ['Writ sign / raw sign (sync)', get('Writ sign EdDSA (sync)', 1) / get('raw Ed25519 sign (sync)', 1), 0.85],
  [
    '(issuer-side) Writ re-sign verify / jose, c=1',
    get('Writ verify EdDSA, issuer-side re-sign (first-seen)', 1) / get('jose jwtVerify EdDSA', 1),
    null,
  ],
  [
    '(issuer-side) Writ re-sign verify / jose, c=32',
    get('Writ verify EdDSA, issuer-side re-sign (first-seen)', 32) / get('jose jwtVerify EdDSA', 32),
    null,
  ],
  [
    'Writ sign / raw sign (thread pool, c=32)',
    get('Writ sign EdDSA (thread pool)', 32) / get('raw Ed25519 sign (thread pool)', 32),
    0.85,
  ],
];
console.log('\n| ratio | measured | target | |');
console.log('| --- | ---: | ---: | --- |');
for (const [name, v, target] of ratios) {
  const verdict = target === null ? '— | |' : `>= ${target}x | ${v >= target ? 'met' : 'MISSED'} |`;
  console.log(`| ${name} | ${v.toFixed(2)}x | ${verdict}`);
}

writeResults('core', {
  node: process.version,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  medians: m,
  samples: Object.fromEntries(samples),
  ratios: ratios.map(([name, value, target]) => ({ name, value, target })),
});
