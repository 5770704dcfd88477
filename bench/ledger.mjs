// Ledger benchmark (`npm run bench -- ledger`). One run, one machine, the same rows and durability for every
// contender: raw SQLite batched INSERT (synchronous=FULL, 100 rows per transaction), raw PostgreSQL
// INSERT ... unnest, an in-process RFC 6962 root with crypto.hash, and Writ (append with 64 concurrent appenders,
// audit, proofs, memory). Every figure is the median of BENCH_APPEND_RUNS (default 5) or BENCH_RUNS runs (default 3,
// for the million-entry measures); a Markdown table goes to stdout
// and JSON to bench/results/ledger.json.
import { spawnSync } from 'node:child_process';
import { hash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { auditLedger } from '../packages/server/dist/src/ledger/audit.js';
import { Ledger } from '../packages/server/dist/src/ledger/ledger.js';
import { openPgLedgerStores, openSqliteLedgerStores } from '../packages/server/dist/src/store/ledger.js';
import { createPgPool, quoteIdent } from '../packages/server/dist/src/store/postgres/db.js';
import { openSqlite } from '../packages/server/dist/src/store/sqlite/db.js';
import {
  encodeRecord,
  leafHash,
  MerkleFrontier,
  Secret,
  verifyConsistency,
  verifyInclusion,
} from '../packages/verifier/dist/src/index.js';
import { median, writeResults } from './_lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const APPEND_RUNS = Number(process.env.BENCH_APPEND_RUNS ?? 5);
const APPENDS = Number(process.env.BENCH_APPENDS ?? 100_000);
const MILLION = Number(process.env.BENCH_MILLION ?? 1_000_000);
const CONCURRENCY = 64;
const PG_URL = process.env.WRIT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const LOG_SECRET = new Secret(Buffer.alloc(32, 7), 'bench');
const PSEUDONYM_KEY = Buffer.alloc(32, 8);

/** The benchmark's record: a token use, every one encoding to the same number of bytes. */
const record = (i) => ({
  v: 1,
  type: 'token.used',
  time: 1_700_000_000_000 + i,
  jti: `bench-${String(i).padStart(9, '0')}`,
  audience: 'https://api.example.com/orders',
  decision: 'allow',
  context_hash: 'x'.repeat(43),
});
const ROW_BYTES = encodeRecord(record(0)).length;

/** The benchmark's ledger on `stores` (created on first use). */
const openLedger = (stores) =>
  Ledger.open({ stores, logSecret: LOG_SECRET, origin: 'bench.example/ledger', pseudonymKey: PSEUDONYM_KEY });

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
const tmp = () => mkdtempSync(join(tmpdir(), 'writ-bench-'));
const gc = () => globalThis.gc?.();

async function sqliteRaw(n) {
  const dir = tmp();
  const db = openSqlite(join(dir, 'raw.sqlite'));
  db.exec('CREATE TABLE entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)');
  const rows = Array.from({ length: n }, (_, i) => encodeRecord(record(i)));
  const insert = db.prepare('INSERT INTO entries (idx, data) VALUES (?, ?)');
  const tx = db.transaction((from, to) => {
    for (let i = from; i < to; i++) insert.run(i, rows[i]);
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i += 100) tx(i, Math.min(n, i + 100));
  const rate = n / ((performance.now() - t0) / 1000);
  db.close();
  rmSync(dir, { recursive: true });
  return rate;
}

/** `n` appends from 64 concurrent appenders; rate and per-append latency. */
async function writAppends(ledger, n, offset = 0) {
  const latencies = new Float64Array(n);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const i = next++;
        const s = performance.now();
        await ledger.append(record(offset + i));
        latencies[i] = performance.now() - s;
      }
    }),
  );
  const rate = n / ((performance.now() - t0) / 1000);
  latencies.sort();
  return { rate, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) };
}

async function sqliteWrit(n) {
  const dir = tmp();
  const db = openSqlite(join(dir, 'writ.sqlite'));
  const ledger = await openLedger(openSqliteLedgerStores(db));
  const r = await writAppends(ledger, n);
  await ledger.close();
  db.close();
  rmSync(dir, { recursive: true });
  return r;
}

async function pgSchema(fn) {
  const schema = `writ_bench_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const pool = await createPgPool(PG_URL, { schema, max: 4 });
  try {
    return await fn(pool);
  } finally {
    await pool.query(`DROP SCHEMA ${quoteIdent(schema)} CASCADE`);
    await pool.end();
  }
}

async function pgRaw(n) {
  return pgSchema(async (pool) => {
    await pool.query('CREATE TABLE entries (idx bigint PRIMARY KEY, data bytea NOT NULL)');
    const rows = Array.from({ length: n }, (_, i) => encodeRecord(record(i)));
    const t0 = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      await pool.query('INSERT INTO entries SELECT * FROM unnest($1::bigint[], $2::bytea[])', [
        chunk.map((_, k) => i + k),
        chunk,
      ]);
    }
    return n / ((performance.now() - t0) / 1000);
  });
}

async function pgWrit(n) {
  return pgSchema(async (pool) => {
    const ledger = await openLedger(await openPgLedgerStores(pool));
    const r = await writAppends(ledger, n);
    await ledger.close();
    return r;
  });
}

/** The in-process baseline: leaf hashes and an RFC 6962 root over the same rows, level by level, with crypto.hash. */
function hashRoot(n) {
  const rows = Array.from({ length: n }, (_, i) => encodeRecord(record(i)));
  gc();
  const zero = Buffer.of(0);
  const one = Buffer.of(1);
  const t0 = performance.now();
  let level = rows.map((r) => hash('sha256', Buffer.concat([zero, r]), 'buffer'));
  while (level.length > 1) {
    const up = [];
    for (let i = 0; i + 1 < level.length; i += 2)
      up.push(hash('sha256', Buffer.concat([one, level[i], level[i + 1]]), 'buffer'));
    if (level.length % 2 === 1) up.push(level[level.length - 1]);
    level = up;
  }
  return { seconds: (performance.now() - t0) / 1000, root: level[0].toString('base64') };
}

/** Child mode: appends `n` entries to a SQLite ledger in `dir` and reports the RSS growth. */
async function million(dir, n) {
  const db = openSqlite(join(dir, 'writ.sqlite'));
  const ledger = await openLedger(openSqliteLedgerStores(db));
  gc();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  const r = await writAppends(ledger, n);
  clearInterval(timer);
  await ledger.close();
  gc();
  const after = process.memoryUsage().rss;
  const root = (await ledger.latestCheckpoint()).checkpoint.root.toString('base64');
  db.close();
  process.stdout.write(JSON.stringify({ rate: r.rate, rssBefore: before, rssAfter: after, rssPeak: peak, root }));
}

async function proofs(dir, samples) {
  const db = openSqlite(join(dir, 'writ.sqlite'), { readonly: true });
  const ledger = await openLedger(openSqliteLedgerStores(db));
  const { checkpoint } = await ledger.latestCheckpoint();
  const n = checkpoint.size;
  const leaves = await ledger.entries(0, 1);
  for (let s = 0; s < 200; s++) await ledger.inclusionProof(Math.floor(Math.random() * n), n); // JIT warm-up
  const inc = new Float64Array(samples);
  const con = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const i = Math.floor(Math.random() * n);
    let t = performance.now();
    await ledger.inclusionProof(i, n);
    inc[s] = performance.now() - t;
    const m = 1 + Math.floor(Math.random() * (n - 1));
    t = performance.now();
    await ledger.consistencyProof(m, n);
    con[s] = performance.now() - t;
  }
  // Check one of each, so the timings are of correct proofs.
  verifyInclusion(0, n, leafHash(leaves[0].data), await ledger.inclusionProof(0, n), checkpoint.root);
  const f = new MerkleFrontier();
  f.append(leafHash(leaves[0].data));
  verifyConsistency(1, n, await ledger.consistencyProof(1, n), f.root(), checkpoint.root);
  inc.sort();
  con.sort();
  db.close();
  return {
    inclusionP50: pct(inc, 0.5),
    inclusionP99: pct(inc, 0.99),
    consistencyP50: pct(con, 0.5),
    consistencyP99: pct(con, 0.99),
  };
}

async function audit(dir) {
  const db = openSqlite(join(dir, 'writ.sqlite'), { readonly: true });
  const stores = openSqliteLedgerStores(db);
  const meta = await stores.log.readMeta();
  const t0 = performance.now();
  const report = await auditLedger({ log: stores.log, checkpoints: stores.checkpoints, verifierKey: meta.verifierKey });
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  if (!report.ok) throw new Error(`audit failed: ${JSON.stringify(report.problems)}`);
  return { seconds, entries: report.entriesChecked };
}

async function main() {
  if (process.argv[2] === '--million') return million(process.argv[3], Number(process.argv[4]));
  const runs = (f) =>
    Promise.all([]).then(async () => {
      const out = [];
      for (let r = 0; r < RUNS; r++) out.push(await f(r));
      return out;
    });
  console.error(
    `ledger bench: rows of ${ROW_BYTES} bytes, ${RUNS} runs, ${APPENDS} appends per run, ${MILLION} for audit/proofs`,
  );

  // Raw and Writ alternate (and swap order each run), so both see the same machine load; appends get more runs
  // than the million-entry measures because they are short and the machine is shared.
  const pairs = async (raw, writ) => {
    const out = [];
    for (let r = 0; r < APPEND_RUNS; r++) {
      out.push(
        r % 2
          ? { writ: await writ(APPENDS), raw: await raw(APPENDS) }
          : { raw: await raw(APPENDS), writ: await writ(APPENDS) },
      );
    }
    return out;
  };
  const sqlite = await pairs(sqliteRaw, sqliteWrit);
  const pgUp = await new pg.Client({ connectionString: PG_URL }).connect().then(
    (c) => c.end().then(() => true),
    () => false,
  );
  const postgres = pgUp ? await pairs(pgRaw, pgWrit) : [];

  // One million entries, appended in a child process whose RSS is measured.
  const dir = tmp();
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', new URL(import.meta.url).pathname, '--million', dir, String(MILLION)],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  if (child.status !== 0) throw new Error(`million child failed: ${child.stderr}`);
  const mil = JSON.parse(child.stdout);
  // Proofs first, while this process's heap is small: the hashing baseline leaves a million buffers to collect.
  gc();
  const proof = await runs(() => proofs(dir, 2000));
  const audits = await runs(() => {
    gc();
    return audit(dir);
  });
  rmSync(dir, { recursive: true });
  const hashing = await runs(() => hashRoot(MILLION));
  if (hashing[0].root !== mil.root) throw new Error('the ledger and the in-process baseline disagree on the root');

  const m = (xs, f) => median(xs.map(f));
  const res = {
    machine: { cpus: cpus().length, node: process.version },
    rowBytes: ROW_BYTES,
    runs: { appends: APPEND_RUNS, million: RUNS },
    sqlite: {
      rawRowsPerSecond: m(sqlite, (x) => x.raw),
      writAppendsPerSecond: m(sqlite, (x) => x.writ.rate),
      ratio: m(sqlite, (x) => x.writ.rate / x.raw),
      p50Ms: m(sqlite, (x) => x.writ.p50),
      p99Ms: m(sqlite, (x) => x.writ.p99),
    },
    postgres: pgUp
      ? {
          rawRowsPerSecond: m(postgres, (x) => x.raw),
          writAppendsPerSecond: m(postgres, (x) => x.writ.rate),
          ratio: m(postgres, (x) => x.writ.rate / x.raw),
          p50Ms: m(postgres, (x) => x.writ.p50),
          p99Ms: m(postgres, (x) => x.writ.p99),
        }
      : null,
    million: {
      entries: MILLION,
      appendsPerSecond: mil.rate,
      rssGrowthMB: (mil.rssAfter - mil.rssBefore) / 2 ** 20,
      rssPeakGrowthMB: (mil.rssPeak - mil.rssBefore) / 2 ** 20,
      hashSeconds: m(hashing, (x) => x.seconds),
      auditSeconds: m(audits, (x) => x.seconds),
      auditVsHashing: m(hashing, (x) => x.seconds) / m(audits, (x) => x.seconds),
      inclusionP50Ms: m(proof, (x) => x.inclusionP50),
      inclusionP99Ms: m(proof, (x) => x.inclusionP99),
      consistencyP50Ms: m(proof, (x) => x.consistencyP50),
      consistencyP99Ms: m(proof, (x) => x.consistencyP99),
    },
  };

  const f0 = (x) => Math.round(x).toLocaleString('en-US');
  const f2 = (x) => x.toFixed(2);
  const ok = (b) => (b ? 'yes' : '**no**');
  const s = res.sqlite;
  const p = res.postgres;
  const k = res.million;
  const proofRow = (kind, p50, p99) => [
    `${kind} proof at ${f0(k.entries)}, p50 / p99 ms`,
    `${f2(p50)} / ${f2(p99)}`,
    '',
    '',
    'p99 <= 2',
    ok(p99 <= 2),
  ];
  const rows = [
    [
      'SQLite append (64 appenders), entries/s',
      f0(s.writAppendsPerSecond),
      `raw INSERT ${f0(s.rawRowsPerSecond)} rows/s`,
      f2(s.ratio),
      '>= 0.25',
      ok(s.ratio >= 0.25),
    ],
    ['SQLite append latency p50 / p99, ms', `${f2(s.p50Ms)} / ${f2(s.p99Ms)}`, '', '', 'p99 <= 25', ok(s.p99Ms <= 25)],
    ...(p
      ? [
          [
            'PostgreSQL append (64 appenders), entries/s',
            f0(p.writAppendsPerSecond),
            `raw INSERT unnest ${f0(p.rawRowsPerSecond)} rows/s`,
            f2(p.ratio),
            '>= 10,000/s',
            ok(p.writAppendsPerSecond >= 10_000),
          ],
          ['PostgreSQL append latency p50 / p99, ms', `${f2(p.p50Ms)} / ${f2(p.p99Ms)}`, '', '', '', ''],
        ]
      : [['PostgreSQL', 'not reachable', '', '', '', '']]),
    [
      `audit verify of ${f0(k.entries)} entries, s`,
      f2(k.auditSeconds),
      `in-process root ${f2(k.hashSeconds)} s`,
      f2(k.auditVsHashing),
      '>= 0.50',
      ok(k.auditVsHashing >= 0.5),
    ],
    proofRow('inclusion', k.inclusionP50Ms, k.inclusionP99Ms),
    proofRow('consistency', k.consistencyP50Ms, k.consistencyP99Ms),
    [
      `RSS growth appending ${f0(k.entries)} (after / peak), MB`,
      `${f2(k.rssGrowthMB)} / ${f2(k.rssPeakGrowthMB)}`,
      `${f0(k.appendsPerSecond)} appends/s`,
      '',
      '<= 100',
      ok(k.rssPeakGrowthMB <= 100),
    ],
  ];
  console.log(
    `rows of ${ROW_BYTES} bytes; medians of ${APPEND_RUNS} runs (appends) and ${RUNS} (the rest); ${res.machine.cpus} cores, Node ${process.version}\n`,
  );
  console.log('| measure | Writ | baseline (same run) | ratio | target | met |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  writeResults('ledger', res);
}

await main();
