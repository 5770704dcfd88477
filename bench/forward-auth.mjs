// Forward-auth benchmark (issue 5): autocannon, 64 connections, in one run, each server under test in a process of
// its own: a bare Fastify GET returning 200 (the ceiling) and Fastify routes verifying with jose, EdDSA and HS256
// (bench/_forward-auth-baseline.mjs), and real `writ serve` nodes (SQLite; route rules in their config file),
// with `usage.forwardAuth` off and on, asked `GET /auth` the way nginx asks: `Authorization` plus
// `X-Original-Method`, `X-Original-URI`, `X-Forwarded-Host`, `X-Forwarded-Proto`. Every case sends those same
// headers.
// First-seen cases send a new token per request, from a pool of BENCH_POOL tokens signed here with the EdDSA key the
// nodes derive from their root secret (the verifier's key schedule, exactly as `writ serve` does; tokens signed
// outside the token endpoint have no ledger record, which /auth does not ask for). Repeated cases cycle 100 prebuilt
// requests (100 clients reusing their tokens). Rounds are interleaved (the order alternates) and medians reported,
// with the server's CPU time per request (all its threads, from /proc), which moves less with the load of a shared
// machine than requests per second. Every answer must be 200: non-2xx answers are counted and fail the run.
// Prints a Markdown table of medians and ratios against the issue's targets, and writes
// bench/results/forward-auth.json.
//
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (6), BENCH_POOL (200000).
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { AccessTokenSigner, KeySchedule, loadSecret } from '../packages/verifier/dist/src/index.js';
import { cpuMicrosOf, freePort, measureRounds, printCases, printRatios, untilHealthy, writeResults } from './_lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 64;
const POOL = Number(process.env.BENCH_POOL ?? 200_000);
const REPEATED = 100;
/** Longer than the node's usage flush interval (1 s). */
const SETTLE_MS = 1500;
const ISSUER = 'https://id.bench.example';
const API = 'https://api.example';
const WRIT = new URL('../packages/server/bin/writ.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'writ-bench-fa-'));
const children = [];
// On any failure, nothing is left behind.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});
const stopAll = async () => {
  for (const c of children) {
    if (c.exitCode === null) {
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  }
};

// --- Writ nodes with the same secrets and issuer: usage records off and on, for first-seen and for repeated tokens.
// Repeated cases get nodes of their own: a first-seen run with usage on leaves tens of MB of garbage (a record per
// request) whose collection would otherwise fall on the next case measured on that node. ---
const config = (port, forwardAuth) => ({
  host: '127.0.0.1',
  port,
  issuer: ISSUER,
  logLevel: 'warn',
  routes: [
    { host: 'api.example', pathPrefix: '/health', public: true },
    { host: 'api.example', pathPrefix: '/api/admin', audience: API, scopes: ['admin'] },
    { host: 'api.example', pathPrefix: '/api', methods: ['GET', 'HEAD'], audience: API, scopes: ['read'] },
    { host: 'api.example', pathPrefix: '/api', audience: API, scopes: ['write'] },
  ],
  usage: { forwardAuth },
});

async function startNode(name, forwardAuth, secretsFrom) {
  const data = join(root, name);
  mkdirSync(data, { mode: 0o700 });
  const port = await freePort();
  writeFileSync(join(data, 'writ.json'), JSON.stringify(config(port, forwardAuth)), { mode: 0o600 });
  if (secretsFrom) for (const f of ['root-1.key', 'log.key']) copyFileSync(join(secretsFrom, f), join(data, f));
  const init = spawnSync(process.execPath, [WRIT, 'init', '--data', data, '--json'], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`writ init: ${init.stderr}`);
  const child = spawn(process.execPath, [WRIT, 'serve', '--data', data, '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await untilHealthy(child, url);
  return { url, data, pid: child.pid };
}

const off = await startNode('usage-off', false);
const on = await startNode('usage-on', true, off.data);
const offRepeated = await startNode('repeated-usage-off', false, off.data);
const onRepeated = await startNode('repeated-usage-on', true, off.data);

// --- Tokens: signed with the nodes' own key schedule (their root secret, default key settings). ---
const schedule = new KeySchedule({
  roots: [{ generation: 1, secret: loadSecret({ file: join(off.data, 'root-1.key') }) }],
  alg: 'EdDSA',
  epochSeconds: 86_400,
  maxTokenLifetime: 3600,
});
const signer = new AccessTokenSigner({ keys: schedule, issuer: ISSUER });
const jwks = await (await fetch(`${off.url}/.well-known/jwks.json`)).json();
const signingKid = schedule.signingKey().kid;
if (!jwks.keys.some((k) => k.kid === signingKid)) throw new Error('the bench derived a key the node does not publish');
const claimsFor = (i) =>
  signer.claims({ sub: `user-${i % 1000}`, aud: API, clientId: `client-${i % 100}`, scope: 'read', lifetime: 3600 });
const t0 = performance.now();
const pool = Array.from({ length: POOL }, (_, i) => signer.sign(claimsFor(i)).token);
// HS256 tokens for the reference route: the same claims under a throw-away key shared with that route only.
const hsKey = randomBytes(32);
const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'at+jwt', kid: 'bench' })).toString('base64url');
const hsPool = Array.from({ length: POOL }, (_, i) => {
  const input = `${hsHeader}.${Buffer.from(JSON.stringify({ ...claimsFor(i), jti: randomUUID() })).toString('base64url')}`;
  return `${input}.${createHmac('sha256', hsKey).update(input).digest('base64url')}`;
});
console.log(
  `node ${process.version}; ${POOL.toLocaleString('en')} EdDSA and HS256 tokens signed in ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

// --- The baselines. ---
const baseline = spawn(
  process.execPath,
  [new URL('_forward-auth-baseline.mjs', import.meta.url).pathname, ISSUER, API, JSON.stringify(jwks)],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_HS256_KEY: hsKey.toString('base64url') } },
);
children.push(baseline);
const basePort = await new Promise((resolve, reject) => {
  baseline.once('exit', (code) => reject(new Error(`baseline server exited with ${code}`)));
  createInterface({ input: baseline.stdout }).once('line', (line) => resolve(Number(line)));
});
const base = { url: `http://127.0.0.1:${basePort}`, pid: baseline.pid };

// --- Cases. ---
const nginx = (token) => ({
  authorization: `Bearer ${token}`,
  'x-original-method': 'GET',
  'x-original-uri': '/api/orders/42?expand=lines',
  'x-forwarded-host': 'api.example',
  'x-forwarded-proto': 'https',
});
const cases = [
  { name: 'bare Fastify GET (ceiling)', server: base, path: '/bare', pool, fresh: false },
  { name: 'jose EdDSA, first-seen', server: base, path: '/jose-eddsa', pool, fresh: true },
  { name: 'jose HS256, first-seen (reference)', server: base, path: '/jose-hs256', pool: hsPool, fresh: true },
  { name: 'Writ /auth, first-seen', server: off, path: '/auth', pool, fresh: true },
  { name: 'Writ /auth, first-seen, usage on', server: on, path: '/auth', pool, fresh: true },
  { name: 'Writ /auth, repeated', server: offRepeated, path: '/auth', pool, fresh: false },
  { name: 'Writ /auth, repeated, usage on', server: onRepeated, path: '/auth', pool, fresh: false },
];

// Before measuring: each case answers 200, and Writ passes the subject upstream.
for (const c of cases) {
  const r = await fetch(`${c.server.url}${c.path}`, { headers: nginx(c.pool[0]) });
  if (r.status !== 200) throw new Error(`${c.name}: ${r.status} ${await r.text()}`);
  if (c.path === '/auth' && r.headers.get('x-writ-subject') !== 'user-0') throw new Error(`${c.name}: no subject`);
}

let next = 1;
function run(c, seconds) {
  const requests = c.fresh
    ? [{ method: 'GET', path: c.path, setupRequest: (req) => ({ ...req, headers: nginx(c.pool[next++ % POOL]) }) }]
    : c.pool.slice(0, REPEATED).map((t) => ({ method: 'GET', path: c.path, headers: nginx(t) }));
  return new Promise((resolve, reject) => {
    autocannon({ url: c.server.url, connections: CONNECTIONS, duration: seconds, requests }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** One run of case `c`: its result, and the server's CPU time per request in µs. */
async function measure(c, seconds) {
  const before = cpuMicrosOf(c.server.pid);
  const result = await run(c, seconds);
  // The work a case leaves behind (its last second of usage records, appended after a flush interval) is its own:
  // wait for it here, so it is counted in this case's CPU and never in the next case's.
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  return { result, cpuPerRequest: (cpuMicrosOf(c.server.pid) - before) / result.requests.total };
}

// Warm-up: every case, briefly, so JIT and caches are in their steady state before measuring.
for (const c of cases) await run(c, 2);
await new Promise((r) => setTimeout(r, SETTLE_MS));
const measured = await measureRounds(cases, ROUNDS, (c) => measure(c, SECONDS));
const { samples, cpuSamples, failures } = measured;
let dropped = 0;
for (const node of [on, onRepeated]) {
  const metrics = await (await fetch(`${node.url}/metrics`)).text();
  dropped += Number(/^writ_usage_events_dropped_total (\d+)/m.exec(metrics)?.[1] ?? 0);
}
await stopAll();
rmSync(root, { recursive: true, force: true });

console.log(`\n${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians\n`);
const { m, cpuM } = printCases(cases, measured);

const [bare, joseEd, joseHs, first, firstUsage, repeated, repeatedUsage] = cases.map((c) => c.name);
// Throughput ratios, and the same comparisons in server CPU per request (what a CPU-bound server's ratio would be).
const ratios = [
  ['first-seen EdDSA: Writ /auth / jose route', m[first] / m[joseEd], cpuM[joseEd] / cpuM[first], 1.2],
  ['(reference) jose HS256 / jose EdDSA', m[joseHs] / m[joseEd], cpuM[joseEd] / cpuM[joseHs], null],
  ['repeated tokens: Writ /auth / bare ceiling', m[repeated] / m[bare], cpuM[bare] / cpuM[repeated], 0.5],
  ['usage on / off, first-seen (cost <= 15%)', m[firstUsage] / m[first], cpuM[first] / cpuM[firstUsage], 0.85],
  [
    'usage on / off, repeated (cost <= 15%)',
    m[repeatedUsage] / m[repeated],
    cpuM[repeated] / cpuM[repeatedUsage],
    0.85,
  ],
];
printRatios(ratios);
console.log(`\nusage on: ${dropped.toLocaleString('en')} uses dropped by the nodes (writ_usage_events_dropped_total)`);

writeResults('forward-auth', {
  node: process.version,
  rounds: ROUNDS,
  seconds: SECONDS,
  connections: CONNECTIONS,
  pool: POOL,
  medians: m,
  cpuPerRequest: cpuM,
  samples: Object.fromEntries(samples),
  cpuSamples: Object.fromEntries(cpuSamples),
  failures: Object.fromEntries(failures),
  ratios: ratios.map(([name, value, cpuRatio, target]) => ({ name, value, cpuRatio, target })),
  usageDropped: dropped,
});
if ([...failures.values()].some((n) => n > 0)) {
  console.error('some requests failed: the figures are not valid');
  process.exit(1);
}
