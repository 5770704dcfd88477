// Gateway benchmark (issue 5): autocannon, 64 connections, against one Fastify server process (bench/_gateway-server.mjs)
// with a bare route (the ceiling), a jose EdDSA route, and the Writ plugin with usage logging off and on, for
// first-seen tokens (a fresh token per request from a pre-signed pool) and repeated tokens (a small pool, cached).
// A route that only checks the signature shows how far any verifier can get above jose on this machine.
// The fixture issuer of the tests runs here, serving the JWKS, the revocation stream and the usage endpoint.
// First-seen cases build every request (a new token each); the bare and repeated cases cycle through 100 prebuilt
// requests (100 clients' tokens). Each ratio compares cases of the same kind, so the load generator costs the same on
// both sides. Prints a Markdown table of medians and ratios against the targets, and writes
// bench/results/gateway.json.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { API_AUDIENCE, startFixtureIssuer } from '../packages/verifier/dist/test/gateway/helpers/issuer.js';
import { measureRounds, printCases, printRatios, writeResults } from './_lib.mjs';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);
const CONNECTIONS = 64;
const POOL = Number(process.env.BENCH_POOL ?? 200_000);
const REPEATED = 100;

// The issuer only counts the usage events it accepts: it shares this machine, and keeping them would cost the
// load generator memory and GC time.
const issuer = await startFixtureIssuer({ retainUsage: false });
const t0 = performance.now();
const pool = Array.from({ length: POOL }, (_, i) => issuer.sign({ sub: `user-${i % 1000}`, scope: 'read' }));
console.log(
  `node ${process.version}; ${POOL.toLocaleString('en')} tokens signed in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const server = spawn(
  process.execPath,
  [
    new URL('_gateway-server.mjs', import.meta.url).pathname,
    issuer.url,
    API_AUDIENCE,
    JSON.stringify(issuer.keys.jwks()),
    issuer.credentials.clientId,
    issuer.credentials.clientSecret,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise((resolve, reject) => {
  server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  createInterface({ input: server.stdout }).once('line', (line) => resolve(Number(line)));
});
const base = `http://127.0.0.1:${port}`;

let next = 0;
const cases = [
  { name: 'bare Fastify route (ceiling)', path: '/bare', fresh: false },
  { name: 'signature only: node:crypto Ed25519 verify, no JWT checks (floor)', path: '/raw', fresh: true },
  { name: 'jose jwtVerify EdDSA', path: '/jose', fresh: true },
  { name: 'Writ plugin, first-seen tokens', path: '/writ', fresh: true },
  { name: 'Writ plugin, first-seen tokens, usage on', path: '/writ-usage', fresh: true },
  { name: 'Writ plugin, repeated tokens', path: '/writ', fresh: false },
  { name: 'Writ plugin, repeated tokens, usage on', path: '/writ-usage', fresh: false },
];

const cpu = async () => {
  const { user, system } = await (await fetch(`${base}/cpu`)).json();
  return user + system;
};

/** One autocannon run of case `c`: its result, and the server's CPU time (all its threads) per request, in µs. */
async function measure(c, seconds) {
  const before = await cpu();
  const result = await run(c, seconds);
  return { result, cpuPerRequest: ((await cpu()) - before) / result.requests.total };
}

function run(c, seconds) {
  const requests = c.fresh
    ? [
        {
          method: 'GET',
          path: c.path,
          setupRequest: (req) => ({ ...req, headers: { authorization: `Bearer ${pool[next++ % POOL]}` } }),
        },
      ]
    : pool.slice(0, REPEATED).map((t) => ({ method: 'GET', path: c.path, headers: { authorization: `Bearer ${t}` } }));
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections: CONNECTIONS, duration: seconds, requests }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

// Warm-up: every route, briefly, so JIT and caches are in their steady state before measuring.
for (const c of cases) await run(c, 1);
const measured = await measureRounds(cases, ROUNDS, (c) => measure(c, SECONDS));
const { samples, cpuSamples, failures } = measured;
const stats = await (await fetch(`${base}/stats`)).json();
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
await issuer.close();

console.log(`\n${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections, medians\n`);
const { m, cpuM } = printCases(cases, measured);

const [bare, raw, jose, first, firstUsage, repeated, repeatedUsage] = cases.map((c) => c.name);
// Throughput ratios, and the same comparisons in server CPU per request (less noisy on a shared machine: what a
// CPU-bound server's throughput ratio would be).
const ratios = [
  ['first-seen EdDSA: Writ plugin / jose route', m[first] / m[jose], cpuM[jose] / cpuM[first], 1.2],
  ['(for reference) first-seen: signature only / jose route', m[raw] / m[jose], cpuM[jose] / cpuM[raw], null],
  ['repeated tokens: Writ plugin / bare ceiling', m[repeated] / m[bare], cpuM[bare] / cpuM[repeated], 0.5],
  ['usage on / off, first-seen (cost <= 15%)', m[firstUsage] / m[first], cpuM[first] / cpuM[firstUsage], 0.85],
  [
    'usage on / off, repeated (cost <= 15%)',
    m[repeatedUsage] / m[repeated],
    cpuM[repeated] / cpuM[repeatedUsage],
    0.85,
  ],
];
printRatios(ratios);
const usage = stats.logged.usage;
console.log(
  `\nusage events: ${usage.sent.toLocaleString('en')} sent in ${usage.posts.toLocaleString('en')} posts, ` +
    `${usage.dropped} dropped, ${usage.queued} queued at the end`,
);

writeResults('gateway', {
  node: process.version,
  rounds: ROUNDS,
  seconds: SECONDS,
  connections: CONNECTIONS,
  medians: m,
  cpuPerRequest: cpuM,
  samples: Object.fromEntries(samples),
  cpuSamples: Object.fromEntries(cpuSamples),
  failures: Object.fromEntries(failures),
  ratios: ratios.map(([name, value, cpuRatio, target]) => ({ name, value, cpuRatio, target })),
  usage,
});
if ([...failures.values()].some((n) => n > 0)) {
  console.error('some requests failed: the figures are not valid');
  process.exit(1);
}
