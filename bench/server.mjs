// Server benchmark (issue 4): autocannon, 64 connections, in one run, against servers each in a process of its own:
// a bare Fastify route that signs an EdDSA JWT with no client authentication and no ledger (the ceiling;
// bench/_server-ceiling.mjs), the peer users would pick instead — oidc-provider 9 with its in-memory adapter, client
// credentials (client_secret_basic), EdDSA JWT access tokens and opaque-token introspection, keeping nothing durable
// (bench/_server-oidc.mjs) — and a real `writ serve` on SQLite: its token endpoint (client_credentials,
// client_secret_basic, every token's issuance record durable in the ledger before the answer) and introspection of
// its access tokens (authenticated). Introspection cycles through 100 tokens issued just before each run, on both
// sides. Rounds are interleaved (order alternating); figures are medians, with p99 latency and the server's CPU time
// per request. Then the Writ server's RSS is sampled once a second over BENCH_RSS_SECONDS of token load.
// Every response must be 2xx: a run with failures is reported and the benchmark exits non-zero.
// Knobs: BENCH_ROUNDS (3), BENCH_SECONDS (6), BENCH_RSS_SECONDS (60; 0 skips). Prints Markdown tables of medians and
// ratios against the issue's targets, and writes bench/results/server.json.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { cpuMicrosOf, freePort, median, writeResults } from './_lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const RSS_SECONDS = Number(process.env.BENCH_RSS_SECONDS ?? 60);
const CONNECTIONS = 64;
const INTROSPECTED = 100;
const RESOURCE = 'https://api.example';
const WRIT = new URL('../packages/server/bin/writ.js', import.meta.url).pathname;
const FORM = 'application/x-www-form-urlencoded';

const basic = (id, secret) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** Starts a child that prints its port (or a JSON line with `url`) on its first stdout line. */
async function child(args, options = {}) {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  const first = await new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
    createInterface({ input: proc.stdout }).once('line', resolve);
  });
  proc.stdout.resume();
  return { proc, first };
}

/** Resident set size of a process, in MiB. */
function rssOf(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

async function post(url, headers, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': FORM, ...headers }, body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// ---- the ceiling ----
const ceiling = await child([new URL('_server-ceiling.mjs', import.meta.url).pathname]);
const ceilingUrl = `http://127.0.0.1:${ceiling.first}`;

// ---- the peer: oidc-provider ----
const peerClient = { id: 'bench', secret: `peer-secret-${Date.now().toString(36)}-0123456789abcdef` };
const peer = await child([
  new URL('_server-oidc.mjs', import.meta.url).pathname,
  peerClient.id,
  peerClient.secret,
  RESOURCE,
]);
const peerUrl = `http://127.0.0.1:${peer.first}`;
const peerAuth = basic(peerClient.id, peerClient.secret);

// ---- Writ: a real `writ serve` on SQLite in a fresh data folder, rate limits raised for the load generator ----
const data = mkdtempSync(join(tmpdir(), 'writ-bench-server-'));
const port = await freePort();
const configFile = join(data, 'bench-config.json');
writeFileSync(
  configFile,
  JSON.stringify({ logLevel: 'warn', limits: { perClientRps: 1_000_000, perIpRps: 1_000_000 } }, null, 2),
);
const writArgs = ['--data', join(data, 'writ'), '--config', configFile, '--port', String(port)];
const writ = await child([WRIT, 'serve', ...writArgs]);
const writUrl = `http://127.0.0.1:${port}`;
const added = spawnSync(
  process.execPath,
  [WRIT, 'client', 'add', ...writArgs, '--name', 'bench', '--scope', 'read', '--audience', RESOURCE, '--json'],
  { encoding: 'utf8' },
);
if (added.status !== 0) throw new Error(`writ client add failed: ${added.stderr}`);
const writClient = JSON.parse(added.stdout);
const writAuth = basic(writClient.client_id, writClient.client_secret);
console.log(`node ${process.version}; writ serve on ${writUrl} (SQLite in ${data})`);

const peerToken = () =>
  post(`${peerUrl}/token`, { authorization: peerAuth }, 'grant_type=client_credentials&scope=read');
const writToken = () =>
  post(`${writUrl}/oauth2/token`, { authorization: writAuth }, 'grant_type=client_credentials&scope=read');

// Sanity: each server answers as it should before it is measured.
const sample = await post(
  `${peerUrl}/token`,
  { authorization: peerAuth },
  `grant_type=client_credentials&scope=read&resource=${encodeURIComponent(RESOURCE)}`,
);
if (sample.access_token.split('.').length !== 3) throw new Error('oidc-provider did not issue a JWT');
if (JSON.parse(Buffer.from(sample.access_token.split('.')[0], 'base64url')).alg !== 'EdDSA') {
  throw new Error('oidc-provider did not sign with EdDSA');
}
const opaque = await peerToken();
if (opaque.access_token.includes('.')) throw new Error('oidc-provider did not issue an opaque token');
const writSample = await writToken();
const writIntro = await post(
  `${writUrl}/oauth2/introspect`,
  { authorization: writAuth },
  `token=${writSample.access_token}`,
);
if (writIntro.active !== true || typeof writIntro.provenance?.index !== 'number') {
  throw new Error('Writ introspection did not find its token active with provenance');
}

const introspectionRequests = (path, auth, tokens) =>
  tokens.map((t) => ({
    method: 'POST',
    path,
    headers: { authorization: auth, 'content-type': FORM },
    body: `token=${encodeURIComponent(t)}`,
  }));

const cases = [
  {
    name: 'bare Fastify route signing an EdDSA JWT (ceiling)',
    key: 'ceiling',
    url: ceilingUrl,
    pid: ceiling.proc.pid,
    requests: async () => [
      { method: 'POST', path: '/token', headers: { 'content-type': FORM }, body: 'grant_type=client_credentials' },
    ],
  },
  {
    name: 'oidc-provider 9: client_credentials, EdDSA JWT',
    key: 'peerToken',
    url: peerUrl,
    pid: peer.proc.pid,
    requests: async () => [
      {
        method: 'POST',
        path: '/token',
        headers: { authorization: peerAuth, 'content-type': FORM },
        body: `grant_type=client_credentials&scope=read&resource=${encodeURIComponent(RESOURCE)}`,
      },
    ],
  },
  {
    name: 'oidc-provider 9: introspection (opaque)',
    key: 'peerIntrospect',
    url: peerUrl,
    pid: peer.proc.pid,
    requests: async () =>
      introspectionRequests(
        '/token/introspection',
        peerAuth,
        (await Promise.all(Array.from({ length: INTROSPECTED }, peerToken))).map((t) => t.access_token),
      ),
  },
  {
    name: 'Writ: client_credentials, durable ledger append',
    key: 'writToken',
    url: writUrl,
    pid: writ.proc.pid,
    requests: async () => [
      {
        method: 'POST',
        path: '/oauth2/token',
        headers: { authorization: writAuth, 'content-type': FORM },
        body: 'grant_type=client_credentials&scope=read',
      },
    ],
  },
  {
    name: 'Writ: introspection (JWT access tokens)',
    key: 'writIntrospect',
    url: writUrl,
    pid: writ.proc.pid,
    requests: async () =>
      introspectionRequests(
        '/oauth2/introspect',
        writAuth,
        (await Promise.all(Array.from({ length: INTROSPECTED }, writToken))).map((t) => t.access_token),
      ),
  },
];

function load(url, requests, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, requests }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** One run of case `c`: requests per second, p99 latency, server CPU µs per request, failures. */
async function measure(c, seconds) {
  const requests = await c.requests();
  const before = cpuMicrosOf(c.pid);
  const r = await load(c.url, requests, seconds);
  const cpu = (cpuMicrosOf(c.pid) - before) / Math.max(1, r.requests.total);
  return { rps: r.requests.average, p99: r.latency.p99, cpu, failed: r.non2xx + r.errors + r.timeouts };
}

// Warm-up: every case, briefly, so JIT and caches are in their steady state before measuring.
for (const c of cases) await measure(c, 1);
const samples = Object.fromEntries(cases.map((c) => [c.key, []]));
const failures = Object.fromEntries(cases.map((c) => [c.key, 0]));
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order, so a slow patch of a shared machine does not always fall on the same cases.
  for (const c of r % 2 ? [...cases].reverse() : cases) {
    const s = await measure(c, SECONDS);
    samples[c.key].push(s);
    failures[c.key] += s.failed;
  }
}

// RSS of the Writ server over a long token load, sampled once a second.
let rss;
if (RSS_SECONDS > 0) {
  const writCase = cases.find((c) => c.key === 'writToken');
  const points = [rssOf(writ.proc.pid)];
  const timer = setInterval(() => points.push(rssOf(writ.proc.pid)), 1000);
  const r = await load(writUrl, await writCase.requests(), RSS_SECONDS);
  clearInterval(timer);
  points.push(rssOf(writ.proc.pid));
  const during = points.slice(1);
  rss = {
    seconds: RSS_SECONDS,
    startMiB: points[0],
    afterFirstSecondMiB: during[0],
    medianMiB: median(during),
    maxMiB: Math.max(...during),
    endMiB: points.at(-1),
    tokens: r.requests.total,
    failed: r.non2xx + r.errors + r.timeouts,
    points,
  };
  failures.writRss = rss.failed;
}

for (const p of [ceiling.proc, peer.proc, writ.proc]) p.kill('SIGTERM');
await Promise.all([ceiling.proc, peer.proc, writ.proc].map((p) => new Promise((r) => p.once('exit', r))));
rmSync(data, { recursive: true, force: true });

const m = Object.fromEntries(
  cases.map((c) => [
    c.key,
    {
      rps: median(samples[c.key].map((s) => s.rps)),
      p99: median(samples[c.key].map((s) => s.p99)),
      cpu: median(samples[c.key].map((s) => s.cpu)),
    },
  ]),
);
console.log(`\n${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians\n`);
console.log('| case | req/s | p99 ms | server CPU µs / request | non-2xx / errors |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const c of cases) {
  const x = m[c.key];
  console.log(
    `| ${c.name} | ${Math.round(x.rps).toLocaleString('en')} | ${x.p99} | ${x.cpu.toFixed(0)} | ${failures[c.key]} |`,
  );
}

const checks = [
  ['Writ tokens / oidc-provider tokens', m.writToken.rps / m.peerToken.rps, 1.5, 'x'],
  ['Writ introspection / oidc-provider introspection', m.writIntrospect.rps / m.peerIntrospect.rps, 2, 'x'],
  ['Writ tokens / ceiling', m.writToken.rps / m.ceiling.rps, 0.6, 'x'],
  ['Writ tokens per second', m.writToken.rps, 10_000, ''],
  ['Writ token p99, ms (at most)', m.writToken.p99, 50, 'max'],
  ['Writ introspections per second', m.writIntrospect.rps, 20_000, ''],
];
console.log('\n| measure | value | target | |');
console.log('| --- | ---: | ---: | --- |');
for (const [name, v, target, kind] of checks) {
  const ok = kind === 'max' ? v <= target : v >= target;
  const fmt = (n) => (kind === 'x' ? `${n.toFixed(2)}x` : Math.round(n).toLocaleString('en'));
  console.log(`| ${name} | ${fmt(v)} | ${kind === 'max' ? '<=' : '>='} ${fmt(target)} | ${ok ? 'met' : 'MISSED'} |`);
}
if (rss) {
  const f = (n) => n.toFixed(0);
  console.log(
    `\nWrit server RSS over ${rss.seconds} s of token load (${rss.tokens.toLocaleString('en')} tokens): ` +
      `idle ${f(rss.startMiB)} MiB, after 1 s ${f(rss.afterFirstSecondMiB)} MiB, median ${f(rss.medianMiB)} MiB, ` +
      `max ${f(rss.maxMiB)} MiB, end ${f(rss.endMiB)} MiB`,
  );
}

writeResults('server', {
  node: process.version,
  rounds: ROUNDS,
  seconds: SECONDS,
  connections: CONNECTIONS,
  medians: m,
  samples,
  failures,
  checks: checks.map(([name, value, target, kind]) => ({ name, value, target, kind })),
  rss,
});
const failed = Object.values(failures).reduce((a, b) => a + b, 0);
if (failed > 0) {
  console.error(`${failed} requests failed: the figures are not valid`);
  process.exit(1);
}
