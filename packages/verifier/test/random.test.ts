import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolRandomBytes } from '../src/core/_random.js';

test('pooled random bytes: the asked length, never the same bytes twice, across refills', () => {
  const seen = new Set<string>();
  const views: Buffer[] = [];
  // 3,000 × 16 bytes crosses the 16 KiB pool twice.
  for (let i = 0; i < 3000; i++) {
    const b = poolRandomBytes(16);
    assert.equal(b.length, 16);
    views.push(b);
    seen.add(b.toString('hex'));
  }
  assert.equal(seen.size, 3000);
  // Bytes handed out earlier are not overwritten by a refill.
  assert.deepEqual(new Set(views.map((b) => b.toString('hex'))), seen);
  assert.equal(poolRandomBytes(32).length, 32);
  assert.equal(poolRandomBytes(4096).length, 4096, 'large requests bypass the pool');
  assert.equal(poolRandomBytes(0).length, 0);
});
