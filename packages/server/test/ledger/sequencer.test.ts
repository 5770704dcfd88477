/**
 * The sequencer over a store that commits synchronously and syncs later ({@link LogStore.commit}, as SQLite does):
 * a batch is acknowledged only once its own sync resolved, the next batch is committed while the previous one syncs,
 * and a failed sync fails its batch and the batch committed after it. The store here is a fake whose syncs the test
 * resolves by hand; the SQLite store's own two steps are checked at the end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Sequencer } from '../../src/ledger/sequencer.js';
import { openSqliteLedgerStores } from '../../src/store/ledger.js';
import type { Commit, LogBatch, LogStore, StoredTree } from '../../src/store/ledger-log.js';
import { openSqlite } from '../../src/store/sqlite/db.js';

/** A log store that keeps the tree in memory; each commit's sync waits until the test settles it. */
function fakeStore() {
  let tree: StoredTree = { size: 0, frontier: Buffer.alloc(0) };
  const syncs: Array<{ size: number; resolve: () => void; reject: (e: Error) => void }> = [];
  const fail = () => Promise.reject(new Error('not used'));
  const store: LogStore = {
    init: fail,
    readMeta: fail,
    readEntries: fail,
    readTiles: fail,
    readTree: async () => tree,
    probe: async () => {},
    sequence: fail,
    commit<T>(integrate: (t: StoredTree) => { batch: LogBatch; result: T }): Commit<T> {
      const { batch, result } = integrate(tree);
      tree = batch.tree;
      const size = tree.size;
      return {
        result,
        durable: () => new Promise<void>((resolve, reject) => syncs.push({ size, resolve, reject })),
      };
    },
  };
  return { store, syncs, size: () => tree.size };
}

const options = {
  maxQueue: 1000,
  maxQueueBytes: 1 << 20,
  maxBatch: 100,
  retryAfterSeconds: 1,
  probeIntervalMs: 60_000,
};

async function until(what: string, ready: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ready(); i++) await tick();
  assert.ok(ready(), `waited for ${what}`);
}

test('a batch is not acknowledged before its sync resolves; the next batch commits while it syncs', async () => {
  const { store, syncs, size } = fakeStore();
  const seq = new Sequencer(store, options);
  const acked: number[] = [];
  const first = [0, 1, 2].map((i) => seq.append(Buffer.from(`a${i}`)).then(({ index }) => acked.push(index)));
  await until('the first commit and its sync', () => syncs.length === 1);
  assert.equal(size(), 3, 'the first batch is committed');
  await tick();
  await tick();
  assert.equal(acked.length, 0, 'nothing acknowledged while the sync runs');

  // Appends made during the sync are committed at once as the next batch, but its sync waits for the first.
  const second = [3, 4].map((i) => seq.append(Buffer.from(`b${i}`)).then(({ index }) => acked.push(index)));
  await until('the second commit', () => size() === 5);
  assert.equal(syncs.length, 1, 'one sync at a time');
  assert.equal(acked.length, 0);

  syncs[0]!.resolve();
  await Promise.all(first);
  assert.deepEqual(acked, [0, 1, 2]);
  await until('the second sync', () => syncs.length === 2);
  await tick();
  assert.deepEqual(acked, [0, 1, 2], 'the second batch waits for its own sync');
  syncs[1]!.resolve();
  await Promise.all(second);
  assert.deepEqual(acked, [0, 1, 2, 3, 4]);
  await seq.close();
});

test('a failed sync fails its batch and the one committed after it, and the ledger fails closed', async () => {
  const { store, syncs, size } = fakeStore();
  const seq = new Sequencer(store, options);
  const first = seq.append(Buffer.from('a'));
  await until('the first sync', () => syncs.length === 1);
  const second = seq.append(Buffer.from('b'));
  await until('the second commit', () => size() === 2);
  syncs[0]!.reject(new Error('EIO'));
  await assert.rejects(first, { code: 'ERR_LEDGER_UNAVAILABLE' });
  await assert.rejects(second, { code: 'ERR_LEDGER_UNAVAILABLE' });
  assert.equal(syncs.length, 1, 'the second batch was never reported durable');
  assert.equal(seq.health().writable, false);
  await assert.rejects(seq.append(Buffer.from('c')), { code: 'ERR_LEDGER_UNAVAILABLE' });
  await seq.close();
});

test('close waits for the sync in flight before it resolves', async () => {
  const { store, syncs } = fakeStore();
  const seq = new Sequencer(store, options);
  const appended = seq.append(Buffer.from('a'));
  await until('the sync', () => syncs.length === 1);
  let closed = false;
  const closing = seq.close().then(() => {
    closed = true;
  });
  await tick();
  await tick();
  assert.equal(closed, false);
  syncs[0]!.resolve();
  await closing;
  assert.deepEqual(await appended, { index: 0 });
});

test('SQLite in WAL mode: commit syncs the WAL afterwards and leaves the connection at synchronous=FULL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-seq-'));
  const db = openSqlite(join(dir, 'l.sqlite'));
  try {
    const { log } = openSqliteLedgerStores(db);
    await log.init({ origin: 'test.example/ledger', verifierKey: 'k', createdAt: 0 });
    assert.equal(typeof log.commit, 'function');
    let during: unknown;
    const c = log.commit!((tree) => {
      // Inside the transaction: the ledger commit itself runs at NORMAL (its sync comes after).
      during = db.pragma('synchronous', { simple: true });
      return { batch: { entries: [], tiles: [], tree }, result: 'done' };
    });
    assert.equal(c.result, 'done');
    assert.equal(during, 1, 'NORMAL inside the ledger transaction');
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL again for every other write');
    await c.durable();
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
