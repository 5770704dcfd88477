/**
 * The ledger conformance suite: the same behaviour asserted on every backend, restart, concurrency, failure and
 * crash cases included. A backend's test file calls {@link ledgerConformance} with its fixture.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  decodeEntryBundle,
  EMPTY_ROOT,
  encodeRecord,
  leafHash,
  MerkleFrontier,
  openCheckpoint,
  parseVerifierKey,
  Secret,
  TILE_WIDTH,
  tokenClaimsHash,
  verifyConsistency,
  verifyInclusion,
} from '@writ/verifier';
import { auditLedger } from '../../src/ledger/audit.js';
import { Ledger, type LedgerOptions } from '../../src/ledger/ledger.js';
import type { LogStore } from '../../src/store/ledger-log.js';
import {
  type Backend,
  type Connection,
  LOG_SECRET,
  ORIGIN,
  PSEUDONYM_KEY,
  type TestDb,
  usedRecord,
} from './backends.js';
import { crashAndVerify, holdLockAndKill } from './crash.js';

type Extra = Partial<Omit<LedgerOptions, 'stores'>>;

/** Opens a connection and a ledger on it; `done()` closes both. */
export async function openLedger(db: TestDb, extra: Extra = {}, conn?: Connection) {
  const c = conn ?? (await db.open());
  const ledger = await Ledger.open({
    stores: c.stores,
    logSecret: LOG_SECRET,
    origin: ORIGIN,
    pseudonymKey: PSEUDONYM_KEY,
    ...extra,
  });
  return {
    ledger,
    conn: c,
    async done() {
      await ledger.close();
      await c.close();
    },
  };
}

/** Runs `fn` on a fresh database of the backend, dropping it afterwards. */
async function withDb(backend: Backend, fn: (db: TestDb) => Promise<void>): Promise<void> {
  const db = await backend.create();
  try {
    await fn(db);
  } finally {
    await db.drop();
  }
}

/** The audit of a test database with the test log key. */
export async function audit(db: TestDb, savedCheckpoint?: string) {
  const c = await db.open();
  try {
    return await auditLedger({
      log: c.stores.log,
      checkpoints: c.stores.checkpoints,
      verifierKey: (await c.stores.log.readMeta())!.verifierKey,
      savedCheckpoint,
      pageSize: 100,
    });
  } finally {
    await c.close();
  }
}

export async function ledgerConformance(backend: Backend): Promise<void> {
  const skip = await backend.skip();
  describe(`ledger conformance: ${backend.name}`, { skip }, () => {
    test('append resolves with consecutive indices; entries returns the exact bytes, paged and cut at the size', () =>
      withDb(backend, async (db) => {
        const seen = { appends: 0, batched: 0, size: 0, checkpoints: [] as number[] };
        const observer = {
          append(ms: number) {
            if (ms >= 0) seen.appends++;
          },
          batch(n: number, _ms: number, size: number) {
            seen.batched += n;
            seen.size = size;
          },
          checkpoint(size: number) {
            seen.checkpoints.push(size);
          },
        };
        const { ledger, done } = await openLedger(db, { maxPage: 50, observer });
        try {
          const records = Array.from({ length: 120 }, (_, i) => usedRecord(i));
          const indices = await Promise.all(records.map((r) => ledger.append(r)));
          assert.deepEqual(
            { ...seen, checkpoints: seen.checkpoints },
            { appends: 120, batched: 120, size: 120, checkpoints: [0] },
          );
          assert.deepEqual(
            indices.map((x) => x.index),
            records.map((_, i) => i),
          );
          assert.equal(await ledger.size(), 120);
          const page = await ledger.entries(10, 1000);
          assert.equal(page.length, 50);
          assert.deepEqual(page[0], { index: 10, data: encodeRecord(records[10]!) });
          assert.deepEqual(
            (await ledger.entries(100, 1000)).map((e) => e.index),
            Array.from({ length: 20 }, (_, i) => 100 + i),
          );
          assert.deepEqual(await ledger.entries(120, 130), []);
          await assert.rejects(ledger.entries(5, 4), { code: 'ERR_LEDGER_RANGE_INVALID' });
          await assert.rejects(ledger.entries(-1, 4), { code: 'ERR_LEDGER_RANGE_INVALID' });
          await assert.rejects(ledger.append({ ...usedRecord(0), decision: 'deny' }), { code: 'ERR_RECORD_INVALID' });
        } finally {
          await done();
        }
      }));

    test('proofs and tiles verify against the signed checkpoint with the published key', () =>
      withDb(backend, async (db) => {
        const { ledger, done } = await openLedger(db, { maxBatch: 97 });
        try {
          const n = 2 * TILE_WIDTH + 88;
          const records = Array.from({ length: n }, (_, i) => usedRecord(i));
          await Promise.all(records.map((r) => ledger.append(r)));
          await ledger.checkpoint();
          const { note, checkpoint } = await ledger.latestCheckpoint();
          assert.equal(checkpoint.size, n);
          assert.equal(checkpoint.origin, ORIGIN);
          const verifier = parseVerifierKey(ledger.verifierKey);
          assert.equal(verifier.name, ORIGIN);
          openCheckpoint(note, verifier);
          for (const i of [0, 1, 255, 256, 300, 511, 512, n - 1]) {
            const proof = await ledger.inclusionProof(i, n);
            verifyInclusion(i, n, leafHash(encodeRecord(records[i]!)), proof, checkpoint.root);
          }
          // Consistency with an older tree, whose root an auditor recomputes from the entries.
          for (const m of [1, 7, 256, 300, n - 1]) {
            const older = (await ledger.entries(0, m)).map((e) => leafHash(e.data));
            const f = new MerkleFrontier();
            for (const h of older) f.append(h);
            verifyConsistency(m, n, await ledger.consistencyProof(m, n), f.root(), checkpoint.root);
          }
          await assert.rejects(ledger.inclusionProof(0, n + 1), { code: 'ERR_LEDGER_RANGE_INVALID' });
          await assert.rejects(ledger.inclusionProof(n, n), { code: 'ERR_LEDGER_RANGE_INVALID' });
          await assert.rejects(ledger.consistencyProof(0, n), { code: 'ERR_LEDGER_RANGE_INVALID' });
          // tlog-tiles: level-0 tiles are the leaf hashes, bundles the entries; partial tiles have their width.
          const tile1 = await ledger.tile(0, 1);
          assert.deepEqual(tile1.subarray(0, 32), leafHash(encodeRecord(records[256]!)));
          assert.equal((await ledger.tile(0, 2, 88)).length, 88 * 32);
          assert.equal((await ledger.tile(1, 0, 2)).length, 64);
          await assert.rejects(ledger.tile(0, 2), { code: 'ERR_NOT_FOUND' });
          await assert.rejects(ledger.tile(0, 3, 1), { code: 'ERR_NOT_FOUND' });
          assert.deepEqual(decodeEntryBundle(await ledger.entryBundle(1)), records.slice(256, 512).map(encodeRecord));
          assert.equal(decodeEntryBundle(await ledger.entryBundle(2, 88)).length, 88);
          await assert.rejects(ledger.entryBundle(2), { code: 'ERR_NOT_FOUND' });
        } finally {
          await done();
        }
      }));

    test('checkpoints: one at creation (empty tree), one every N entries, one per interval, one at close', async () => {
      // Each trigger alone (the other set far away), waited for with a generous bound: shared machines are slow.
      const until = async (what: string, ok: () => Promise<boolean>) => {
        for (const t0 = Date.now(); !(await ok()); await sleep(10)) {
          assert.ok(Date.now() - t0 < 5000, `${what}: not within 5 s`);
        }
      };
      await withDb(backend, async (db) => {
        const { ledger, done } = await openLedger(db, { checkpointEvery: 50, checkpointIntervalMs: 3_600_000 });
        try {
          const first = await ledger.latestCheckpoint();
          assert.equal(first.checkpoint.size, 0);
          assert.deepEqual(first.checkpoint.root, EMPTY_ROOT);
          await Promise.all(Array.from({ length: 60 }, (_, i) => ledger.append(usedRecord(i))));
          await until('every N entries', async () => (await ledger.latestCheckpoint()).checkpoint.size >= 50);
        } finally {
          await done().catch(() => {});
        }
      });
      await withDb(backend, async (db) => {
        const { ledger, conn, done } = await openLedger(db, { checkpointEvery: 1_000_000, checkpointIntervalMs: 200 });
        try {
          await Promise.all(Array.from({ length: 61 }, (_, i) => ledger.append(usedRecord(i))));
          // The node's own view (health) is updated just after the store's, so wait for the node's.
          await until('interval', async () => ledger.health().checkpointSize === 61);
          assert.equal((await ledger.latestCheckpoint()).checkpoint.size, 61);
          const h = ledger.health();
          assert.equal(h.writable, true);
          assert.equal(h.checkpointSize, 61);
          assert.ok(h.checkpointAgeMs !== undefined && h.checkpointAgeMs < 5000);
          void ledger.append(usedRecord(61));
          await ledger.close();
          assert.equal((await conn.stores.checkpoints.latest())?.size, 62, 'final checkpoint at close');
        } finally {
          await done().catch(() => {});
        }
      });
    });

    test('concurrent appenders in two connections interleave without loss, duplicates or reordering', () =>
      withDb(backend, async (db) => {
        const a = await openLedger(db, { maxBatch: 50 });
        const b = await openLedger(db, { maxBatch: 50 });
        try {
          const acked = new Map<number, string>();
          const run = async (ledger: Ledger, tag: string) => {
            for (let i = 0; i < 300; i += 30) {
              const batch = Array.from({ length: 30 }, (_, k) => usedRecord(i + k, tag));
              const res = await Promise.all(batch.map((r) => ledger.append(r)));
              res.forEach(({ index }, k) => {
                assert.ok(!acked.has(index), `index ${index} acknowledged twice`);
                acked.set(index, encodeRecord(batch[k]!).toString('hex'));
              });
            }
          };
          await Promise.all([run(a.ledger, 'a'), run(b.ledger, 'b')]);
          assert.equal(acked.size, 600);
          assert.equal(await a.ledger.size(), 600);
          for (const e of await entriesOf(a.ledger, 600)) assert.equal(e.data.toString('hex'), acked.get(e.index));
          const order = (await entriesOf(a.ledger, 600)).map((e) => JSON.parse(e.data.toString()).jti as string);
          for (const tag of ['a', 'b']) {
            const mine = order.filter((j) => j.startsWith(`${tag}-`)).map((j) => Number(j.slice(2)));
            assert.deepEqual(
              mine,
              [...mine].sort((x, y) => x - y),
              `${tag}'s sequential batches keep their order`,
            );
          }
        } finally {
          await a.done();
          await b.done();
        }
        assert.equal((await audit(db)).ok, true);
      }));

    test('restart keeps every entry and checkpoint; the origin and the log secret are fixed at creation', () =>
      withDb(backend, async (db) => {
        const first = await openLedger(db);
        await Promise.all(Array.from({ length: 40 }, (_, i) => first.ledger.append(usedRecord(i))));
        const key = first.ledger.verifierKey;
        await first.done();
        const again = await openLedger(db, { origin: undefined });
        try {
          assert.equal(again.ledger.origin, ORIGIN);
          assert.equal(again.ledger.verifierKey, key);
          assert.equal(await again.ledger.size(), 40);
          assert.equal((await again.ledger.latestCheckpoint()).checkpoint.size, 40);
          assert.equal((await again.ledger.append(usedRecord(40))).index, 40);
        } finally {
          await again.done();
        }
        const c = await db.open();
        try {
          await assert.rejects(openLedger(db, { origin: 'other.example/log' }, c), { code: 'ERR_CONFIG_INVALID' });
          await assert.rejects(openLedger(db, { logSecret: new Secret(Buffer.alloc(32, 9), 'other') }, c), {
            code: 'ERR_CONFIG_INVALID',
          });
        } finally {
          await c.close();
        }
      }));

    test('a full queue pushes back with a retry delay instead of growing', () =>
      withDb(backend, async (db) => {
        const { ledger, done } = await openLedger(db, { maxQueue: 10, retryAfterSeconds: 2 });
        try {
          const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => ledger.append(usedRecord(i))));
          const rejected = results.filter((r) => r.status === 'rejected');
          assert.equal(results.length - rejected.length, 10);
          for (const r of rejected) {
            assert.equal(r.reason.code, 'ERR_LEDGER_PUSHBACK');
            assert.equal(r.reason.retryAfter, 2);
          }
          await ledger.flush();
          assert.equal(ledger.health().queued, 0);
          assert.equal((await ledger.append(usedRecord(99))).index, 10, 'accepts again once drained');
        } finally {
          await done();
        }
      }));

    test('a failing store fails appends fast (audit fails closed) and recovers once the store is back', () =>
      withDb(backend, async (db) => {
        const conn = await db.open();
        const real = conn.stores.log;
        let down = false;
        const fault = () => Promise.reject(new Error('disk full'));
        const log: LogStore = {
          init: (m) => real.init(m),
          readMeta: () => real.readMeta(),
          readTree: () => real.readTree(),
          readEntries: (a, b) => real.readEntries(a, b),
          readTiles: (k) => real.readTiles(k),
          sequence: (f) => (down ? fault() : real.sequence(f)),
          probe: () => (down ? fault() : real.probe()),
        };
        const stores = { ...conn.stores, log };
        const { ledger, done } = await openLedger(db, { probeIntervalMs: 50 }, { stores, close: conn.close });
        try {
          await ledger.append(usedRecord(0));
          down = true;
          const failed = await Promise.allSettled([ledger.append(usedRecord(1)), ledger.append(usedRecord(2))]);
          for (const r of failed) assert.equal(r.status === 'rejected' && r.reason.code, 'ERR_LEDGER_UNAVAILABLE');
          const h = ledger.health();
          assert.equal(h.writable, false);
          assert.match(h.lastError ?? '', /disk full/);
          const t0 = Date.now();
          await assert.rejects(ledger.append(usedRecord(3)), { code: 'ERR_LEDGER_UNAVAILABLE' });
          assert.ok(Date.now() - t0 < 50, 'fails fast');
          down = false;
          await sleep(200);
          assert.equal(ledger.health().writable, true);
          assert.equal((await ledger.append(usedRecord(4))).index, 1);
        } finally {
          await done();
        }
      }));

    test('crypto-shredding: an erased subject is unlinkable while the tree still verifies', () =>
      withDb(backend, async (db) => {
        const { ledger, done } = await openLedger(db);
        try {
          const p1 = await ledger.pseudonymise('alice@example.com');
          assert.match(p1, /^[A-Za-z0-9_-]{43}$/);
          assert.equal(await ledger.pseudonymise('alice@example.com'), p1, 'stable: entries link');
          assert.notEqual(await ledger.pseudonymise('bob@example.com'), p1);
          await ledger.append({
            ...{ v: 1, type: 'token.issued', time: 1, jti: 'j1', token_kind: 'access', format: 'jwt' },
            ...{ client_id: 'c1', subject: p1, aud: ['https://api.example'], iat: 1, exp: 2 },
            ...{ claims_hash: tokenClaimsHash({ sub: 'alice@example.com' }), grant_type: 'authorization_code' },
          });
          await ledger.append(usedRecord(1));
          const stored = (await ledger.entries(0, 1))[0]!.data;
          assert.ok(!stored.includes('alice'), 'no subject in the ledger');
          assert.equal(await ledger.eraseSubject('alice@example.com'), true);
          assert.equal(await ledger.eraseSubject('alice@example.com'), false);
          // Nothing recomputes the old pseudonym from the subject any more; a new key gives an unrelated one.
          const p2 = await ledger.pseudonymise('alice@example.com');
          assert.notEqual(p2, p1);
          assert.deepEqual((await ledger.entries(0, 1))[0]!.data, stored, 'the entry itself is untouched');
          await ledger.checkpoint();
        } finally {
          await done();
        }
        const report = await audit(db);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
      }));

    test('graceful close writes everything queued and refuses what comes after', () =>
      withDb(backend, async (db) => {
        const { ledger, done } = await openLedger(db);
        const pending = Array.from({ length: 500 }, (_, i) => ledger.append(usedRecord(i)));
        await ledger.close();
        assert.equal((await Promise.all(pending)).length, 500);
        await assert.rejects(ledger.append(usedRecord(500)), { code: 'ERR_SHUTTING_DOWN' });
        await done();
        const again = await openLedger(db);
        try {
          assert.equal(await again.ledger.size(), 500);
          assert.equal((await again.ledger.latestCheckpoint()).checkpoint.size, 500);
        } finally {
          await again.done();
        }
      }));

    test('crash: SIGKILL at random moments under load loses no acknowledged entry; tree and checkpoint verify', () =>
      withDb(backend, async (db) => {
        const { done } = await openLedger(db);
        await done();
        const acked = new Map<number, string>();
        for (let i = 0; i < 8; i++) await crashAndVerify(db, acked, `c${i}`, 30 + Math.floor(Math.random() * 300));
        const report = await audit(db);
        assert.equal(report.ok, true, JSON.stringify(report.problems));
      }));

    if (backend.name === 'postgres') {
      test('a sequencer killed while holding the lock is taken over within seconds, losing nothing', () =>
        withDb(backend, async (db) => {
          const { ledger, done } = await openLedger(db);
          try {
            await holdLockAndKill(db, ledger);
          } finally {
            await done();
          }
          assert.equal((await audit(db)).ok, true);
        }));
    }
  });
}

async function entriesOf(ledger: Ledger, n: number) {
  const out = [];
  for (let i = 0; i < n; i += 100) out.push(...(await ledger.entries(i, i + 100)));
  return out;
}
