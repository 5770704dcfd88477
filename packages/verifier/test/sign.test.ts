import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import { AccessTokenSigner, b64uDecode, tokenClaimsHash } from '../src/index.js';
import { AUDIENCE, ISSUER, request, schedule, signer, T0, verifier } from './helpers/core.js';

test('claims: RFC 9068 members, iat = nbf = now, 128-bit jti, optional members copied', () => {
  const s = signer(schedule());
  const c = s.claims(
    request({
      cnf: { jkt: 'abc' },
      authorizationDetails: [{ type: 'payment', actions: ['initiate'], locations: ['https://api.example/pay'] }],
      act: { sub: 'admin' },
      scope: ['read', 'write'],
    }),
  );
  assert.deepEqual(Object.keys(c).sort(), [
    'act',
    'aud',
    'authorization_details',
    'client_id',
    'cnf',
    'exp',
    'iat',
    'iss',
    'jti',
    'nbf',
    'scope',
    'sub',
  ]);
  assert.equal(c.iss, ISSUER);
  assert.equal(c.iat, T0 / 1000);
  assert.equal(c.nbf, c.iat);
  assert.equal(c.exp, c.iat + 600);
  assert.equal(c.scope, 'read write');
  assert.ok(b64uDecode(c.jti).length >= 16);
  assert.notEqual(s.claims(request()).jti, c.jti);
});

test('the configured maximum lifetime is never exceeded', () => {
  const keys = schedule({ maxTokenLifetime: 900 });
  const s = signer(keys);
  const c = s.claims(request({ lifetime: 10_000 }));
  assert.equal(c.exp - c.iat, 900);
  assert.throws(() => s.sign({ ...c, exp: c.iat + 901 }), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => s.sign({ ...c, iss: 'https://other' }), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => s.sign({ ...c, jti: 'short' }), { code: 'ERR_INVALID_ARGUMENT' });
  assert.throws(() => s.sign({ ...c, exp: c.iat }), { code: 'ERR_INVALID_ARGUMENT' });
  for (const bad of [{ sub: '' }, { clientId: 3 as unknown as string }, { aud: [] }, { aud: [''] }]) {
    assert.throws(() => s.claims(request(bad)), { code: 'ERR_INVALID_ARGUMENT' }, JSON.stringify(bad));
  }
  assert.throws(() => new AccessTokenSigner({ keys, issuer: ISSUER, defaultLifetime: 901 }), {
    code: 'ERR_CONFIG_INVALID',
  });
});

test('sign and signAsync produce tokens the verifier accepts, with the header Writ promises', async () => {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const keys = schedule({ alg });
    const s = signer(keys);
    const claims = { ...s.claims(request()), provenance: { log: 'writ.example/log', index: 42 } };
    const sync = s.sign(claims);
    const async = await s.signAsync(claims);
    const v = verifier(keys, { cache: false });
    for (const t of [sync, async]) {
      assert.equal(t.alg, alg);
      assert.equal(t.kid, keys.signingKey().kid);
      const header = JSON.parse(b64uDecode(t.token.split('.')[0]!).toString());
      assert.deepEqual(header, { alg, typ: 'at+jwt', kid: t.kid });
      const r = await v.verify(t.token);
      assert.deepEqual(r.claims, claims);
      assert.equal(r.key.epoch, keys.epoch());
      assert.equal(r.key.generation, 1);
    }
  }
});

test('MAC-signed tokens use the audience key and need exactly one audience', async () => {
  const keys = schedule();
  const s = signer(keys);
  const t = s.sign(s.claims(request()), { mac: true });
  assert.equal(t.alg, 'HS256');
  assert.equal(t.kid, keys.audienceMacKey(AUDIENCE).kid);
  assert.throws(() => s.sign(s.claims(request({ aud: [AUDIENCE, 'x'] })), { mac: true }), {
    code: 'ERR_INVALID_ARGUMENT',
  });
});

test('claims hash: SHA-256 of the RFC 8785 form without provenance', () => {
  const s = signer(schedule());
  const c = s.claims(request());
  const h = tokenClaimsHash(c);
  assert.equal(Buffer.from(h, 'base64url').length, 32);
  assert.equal(tokenClaimsHash({ ...c, provenance: { log: 'l', index: 7 } }), h);
  assert.equal(h, createHash('sha256').update(canonicalize(c)!).digest('base64url'));
  // Member order does not matter; content does.
  const reordered = Object.fromEntries(Object.entries(c).reverse()) as typeof c;
  assert.equal(tokenClaimsHash(reordered), h);
  assert.notEqual(tokenClaimsHash({ ...c, sub: 'other' }), h);
});
