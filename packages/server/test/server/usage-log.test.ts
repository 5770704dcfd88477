import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRecord, type TokenUsedRecord } from '@writ/verifier';
import { Metrics } from '../../src/server/metrics.js';
import { UsageLog, type Use } from '../../src/server/usage-log.js';
import { sqliteBackend } from '../ledger/backends.js';
import { openLedger } from '../ledger/conformance.js';

const use = (jti: string): Use => ({
  time: 1_700_000_000_000,
  jti,
  audience: 'https://api.example',
  decision: 'allow',
});

async function dropped(metrics: Metrics): Promise<number> {
  return (await metrics.usageDropped.get()).values[0]?.value ?? 0;
}

test('usage log: repeats fold into a count; a full table is appended early, not dropped; a refused append is counted', async () => {
  const db = await sqliteBackend.create();
  try {
    const { ledger, done } = await openLedger(db);
    const metrics = new Metrics({ processMetrics: false });
    const usage = new UsageLog(ledger, metrics, { maxPending: 3, flushMs: 3_600_000 });
    for (const jti of ['a', 'a', 'b', 'c', 'd', 'e', 'a']) usage.record(use(jti));
    await ledger.flush();
    const early = (await ledger.entries(0, 100)).map((e) => decodeRecord(e.data) as TokenUsedRecord);
    assert.deepEqual(
      early.map((r) => [r.jti, r.count ?? 1]),
      [
        ['a', 2],
        ['b', 1],
        ['c', 1],
      ],
      'the full table went to the ledger before its window ended',
    );
    usage.close();
    await ledger.flush();
    const all = (await ledger.entries(0, 100)).map((e) => decodeRecord(e.data) as TokenUsedRecord);
    assert.deepEqual(
      all.slice(3).map((r) => [r.jti, r.count ?? 1]),
      [
        ['d', 1],
        ['e', 1],
        ['a', 1],
      ],
    );
    assert.equal(await dropped(metrics), 0, 'nothing dropped while the ledger accepts');

    await done();
    const late = new UsageLog(ledger, metrics, { flushMs: 3_600_000 });
    for (const jti of ['x', 'x', 'y']) late.record(use(jti));
    late.close();
    await new Promise(setImmediate); // the refusals settle in microtasks
    assert.equal(await dropped(metrics), 3, 'uses the closed ledger refused are counted, each fold by its count');
  } finally {
    await db.drop();
  }
});
