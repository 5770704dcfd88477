import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { canonicalBytes, canonicalJson } from '../src/index.js';

test('RFC 8785: members sorted by UTF-16 code units, no whitespace, minimal escapes', () => {
  assert.equal(
    canonicalJson({ b: 1, a: [true, null, 'x'], '\u20ac': 0, '\r': 2 }),
    '{"\\r":2,"a":[true,null,"x"],"b":1,"€":0}',
  );
  assert.equal(canonicalJson({ s: '\u2028é"\\\u0001' }), '{"s":"\u2028é\\"\\\\\\u0001"}');
  assert.equal(
    canonicalJson(Object.assign(Object.create(null), { z: -0, y: 9007199254740991 })),
    '{"y":9007199254740991,"z":0}',
  );
  assert.deepEqual(canonicalBytes({ a: 'é' }), Buffer.from('{"a":"é"}', 'utf8'));
});

test('non-integer numbers and non-JSON values are refused with a typed error', () => {
  class Thing {
    x = 1;
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    2 ** 53,
    { a: undefined },
    [undefined],
    () => 1,
    Symbol('s'),
    10n,
    new Date(0),
    new Thing(),
    { toJSON: () => 1 },
    { [Symbol('k')]: 1 },
    '\uD800',
    { k: 'a\uDC00' },
    cyclic,
  ]) {
    assert.throws(() => canonicalJson(bad), { code: 'ERR_INVALID_ARGUMENT' }, String(bad));
  }
  assert.throws(() => canonicalJson(1.5, 'ERR_RECORD_INVALID'), { code: 'ERR_RECORD_INVALID' });
  assert.throws(() => canonicalJson({ a: [0, { b: 0.5 }] }), { detail: '$.a[1].b: not a safe integer' });
  assert.throws(() => canonicalJson({ a: { '\uDC00': 1 } }), { detail: /^\$\.a\..: lone surrogate$/ });
});

test('property: the same text as the canonicalize package (the RFC 8785 reference) on random values', () => {
  const key = fc.string({ unit: 'binary', maxLength: 8 });
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      fc.string({ unit: 'binary' }),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 6 }),
    ),
  }));
  fc.assert(
    fc.property(value, (v) => {
      assert.equal(canonicalJson(v), canonicalize(v));
    }),
    { numRuns: 2000 },
  );
});
