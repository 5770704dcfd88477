import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { p256FromBytes } from '../src/core/keys/derive.js';
import { jwkThumbprint, KeySchedule, publicJwk, Secret, StaticKeySource } from '../src/index.js';
import { clock, ROOT, ROOT2, schedule, T0 } from './helpers/core.js';

const DAY = 86_400;

test('RFC 7638 §3.1: the example RSA key has the published thumbprint', () => {
  const jwk = {
    kty: 'RSA',
    n:
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs' +
      'tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5' +
      'hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
    e: 'AQAB',
    alg: 'RS256',
    kid: '2011-04-29',
  };
  assert.equal(jwkThumbprint(jwk), 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  assert.throws(() => jwkThumbprint({ kty: 'RSA', e: 'AQAB' }), { code: 'ERR_KEY_MATERIAL_INVALID' });
  assert.throws(() => jwkThumbprint({ kty: 'foo' }), { code: 'ERR_KEY_MATERIAL_INVALID' });
});

test('keys are deterministic: two schedules on the same root derive the same keys; another root differs', () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const a = schedule({ alg });
    const b = schedule({ alg });
    assert.equal(a.signingKey().kid, b.signingKey().kid);
    assert.deepEqual(a.jwks(), b.jwks());
    const c = new KeySchedule({
      roots: [{ generation: 1, secret: ROOT2 }],
      maxTokenLifetime: 3600,
      alg,
      now: () => T0,
    });
    assert.notEqual(a.signingKey().kid, c.signingKey().kid);
    assert.equal(a.signingKey().alg, alg);
    assert.equal(a.signingKey().kid, jwkThumbprint(publicJwk(a.signingKey().key)));
  }
});

test('P-256 scalars land in [1, n-1] for extreme inputs', () => {
  for (const fill of [0x00, 0xff]) {
    const { privateKey, publicKey } = p256FromBytes(Buffer.alloc(40, fill));
    assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(publicJwk(publicKey).crv, 'P-256');
  }
  assert.throws(() => p256FromBytes(Buffer.alloc(32)), { code: 'ERR_KEY_MATERIAL_INVALID' });
});

test('JWKS holds previous, current and next epoch keys; the current key signs', () => {
  const c = clock();
  const s = schedule({ now: c.now });
  const jwks = s.jwks();
  assert.equal(jwks.keys.length, 3);
  assert.equal(jwks.keys[0]!.kid, s.signingKey().kid);
  for (const k of jwks.keys) {
    assert.deepEqual(Object.keys(k).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
    assert.equal(k.use, 'sig');
  }
  const epoch = s.epoch();
  const next = jwks.keys.find((k) => s.resolve(k.kid!).epoch === epoch + 1)!;
  const previous = jwks.keys.find((k) => s.resolve(k.kid!).epoch === epoch - 1)!;
  // Publish before sign: tomorrow's signing key is today's "next".
  c.advance(DAY);
  assert.equal(s.signingKey().kid, next.kid);
  assert.equal(s.epoch(), epoch + 1);
  // The old previous key is gone; today's current became previous.
  assert.throws(() => s.resolve(previous.kid!), { code: 'ERR_KEY_NOT_FOUND' });
  assert.ok(s.jwks().keys.some((k) => k.kid === jwks.keys[0]!.kid));
});

test('past keys stay published while tokens they signed can be valid (lifetime longer than an epoch)', () => {
  const s = schedule({ epochSeconds: 3600, maxTokenLifetime: 3 * 3600 + 1 });
  // ceil(L / E) = 4 past epochs + current + next.
  assert.equal(s.jwks().keys.length, 6);
});

test('rotationOffset makes the already-published next key the signing key', () => {
  const s0 = schedule();
  const s1 = schedule({ rotationOffset: 1 });
  const nextOfS0 = s0.jwks().keys.find((k) => s0.resolve(k.kid!).epoch === s0.epoch() + 1)!;
  assert.equal(s1.signingKey().kid, nextOfS0.kid);
  assert.ok(s1.jwks().keys.some((k) => k.kid === s0.signingKey().kid));
});

test('generations: a retired generation is refused with ERR_KEY_RETIRED; an older live one still verifies', () => {
  const g1 = schedule();
  const kid1 = g1.signingKey().kid;
  const both = schedule({
    roots: [
      { generation: 1, secret: ROOT },
      { generation: 2, secret: ROOT2 },
    ],
  });
  assert.equal(both.activeGeneration, 2);
  assert.notEqual(both.signingKey().kid, kid1);
  assert.equal(both.resolve(kid1).generation, 1);
  const retired = schedule({
    roots: [
      { generation: 1, secret: ROOT },
      { generation: 2, secret: ROOT2 },
    ],
    retiredGenerations: [1],
  });
  assert.throws(() => retired.resolve(kid1), { code: 'ERR_KEY_RETIRED' });
  assert.ok(!retired.jwks().keys.some((k) => k.kid === kid1));
  assert.throws(() => retired.lookupKey(1), { code: 'ERR_INVALID_ARGUMENT' });
});

test('kid resolution is exact', () => {
  const s = schedule();
  const kid = s.signingKey().kid;
  assert.equal(s.resolve(kid).kid, kid);
  for (const bad of [kid.toLowerCase(), `${kid} `, kid.slice(1), '../../etc/passwd', "' OR 1=1 --", '']) {
    if (bad === kid) continue;
    assert.throws(() => s.resolve(bad), { code: 'ERR_KEY_NOT_FOUND' });
  }
});

test('audience MAC keys: one per audience, kid does not reveal the key, resolvable', () => {
  const s = schedule();
  const a = s.audienceMacKey('https://a.example');
  const b = s.audienceMacKey('https://b.example');
  assert.equal(a.alg, 'HS256');
  assert.notEqual(a.kid, b.kid);
  assert.equal(s.audienceMacKey('https://a.example'), a);
  const raw = a.key.export();
  assert.notDeepEqual(raw, b.key.export());
  assert.ok(!a.kid.includes(raw.toString('base64url')) && !a.kid.includes(raw.toString('hex')));
  assert.equal(s.resolve(a.kid), a);
  // The kid is a MAC under the key, so only the key holder can link it to the key.
  assert.ok(
    a.kid.endsWith(createHmac('sha256', a.key).update('writ/v1/kid').digest().subarray(0, 16).toString('base64url')),
  );
  assert.throws(() => s.audienceMacKey(''), { code: 'ERR_INVALID_ARGUMENT' });
});

test('lookup, pseudonym and nonce keys are distinct HMAC keys, stable across epochs', () => {
  const c = clock();
  const s = schedule({ now: c.now });
  const keys = [s.lookupKey(), s.pseudonymKey(), s.dpopNonceKey()].map((k) => k.export().toString('hex'));
  assert.equal(new Set(keys).size, 3);
  c.advance(10 * DAY);
  assert.equal(s.lookupKey().export().toString('hex'), keys[0]);
});

test('schedule options are validated before any work', () => {
  const bad: Array<Record<string, unknown>> = [
    { roots: [], maxTokenLifetime: 60 },
    { roots: [{ generation: 1, secret: ROOT }] },
    { roots: [{ generation: 1, secret: 'x'.repeat(40) }], maxTokenLifetime: 60 },
    { roots: [{ generation: -1, secret: ROOT }], maxTokenLifetime: 60 },
    {
      roots: [
        { generation: 1, secret: ROOT },
        { generation: 1, secret: ROOT2 },
      ],
      maxTokenLifetime: 60,
    },
    { roots: [{ generation: 1, secret: ROOT }], retiredGenerations: [1], maxTokenLifetime: 60 },
    { roots: [{ generation: 1, secret: ROOT }], maxTokenLifetime: 60, alg: 'HS256' },
    { roots: [{ generation: 1, secret: ROOT }], maxTokenLifetime: 60, epochSeconds: 1 },
    { roots: [{ generation: 1, secret: ROOT }], maxTokenLifetime: 60, rotationOffset: -1 },
    { roots: [{ generation: 1, secret: ROOT }], maxTokenLifetime: 60, epochSecond: 60 },
  ];
  for (const options of bad) {
    assert.throws(() => new KeySchedule(options as never), { code: 'ERR_CONFIG_INVALID' }, JSON.stringify(options));
  }
  assert.throws(() => new Secret(Buffer.alloc(16), 'short'), { code: 'ERR_KEY_MATERIAL_INVALID' });
});

test('StaticKeySource: runs from a JWKS alone, validates keys, resolves exactly', () => {
  const s = schedule();
  const src = new StaticKeySource({ jwks: s.jwks() });
  const kid = s.signingKey().kid;
  assert.equal(src.resolve(kid).alg, 'EdDSA');
  assert.throws(() => src.resolve('nope'), { code: 'ERR_KEY_NOT_FOUND' });
  const jwk = s.jwks().keys[0]!;
  const invalid = [
    { keys: [] },
    { keys: [{ ...jwk, kid: undefined }] },
    { keys: [{ ...jwk, d: 'AAAA' }] },
    { keys: [{ ...jwk, use: 'enc' }] },
    { keys: [{ ...jwk, alg: 'HS256' }] },
    { keys: [{ ...jwk, alg: 'ES256' }] },
    { keys: [jwk, jwk] },
    { keys: [{ kty: 'oct', k: 'AAAA', kid: 'x', alg: 'HS256' }] },
  ];
  for (const jwks of invalid) {
    assert.throws(() => new StaticKeySource({ jwks }), { code: 'ERR_CONFIG_INVALID' }, JSON.stringify(jwks));
  }
  const { alg: _, ...noAlg } = jwk;
  assert.equal(new StaticKeySource({ jwks: { keys: [noAlg] } }).resolve(kid).alg, 'EdDSA');
});
