import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import * as jose from 'jose';
import * as oauth from 'oauth4webapi';
import {
  accessTokenHash,
  DpopNonces,
  DpopVerifier,
  jwkThumbprint,
  MemoryReplayCache,
  normalizeHtu,
  publicJwk,
  WritError,
} from '../src/index.js';
import { craft, issue, rawSign, schedule, T0, verifier } from './helpers/core.js';

// RFC 9449 §4.2 (Figure 3) and §7.1 (Figure 13) examples, with the access token of §7.1 and the jkt of §6.1.
const RFC_TOKEN_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
  '.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ' +
  '.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
const RFC_RESOURCE_PROOF =
  'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19' +
  '.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9' +
  '.2oW9RP35yRqzhrtNP86L-Ey71EOptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA';
const RFC_ACCESS_TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU';
const RFC_JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';

const URL_ = 'https://api.example/resource';
const now = T0 / 1000;
const at = (ms: number) => () => ms;

function dpopKey(type: 'ec' | 'ed25519' = 'ec'): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const pair = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { privateKey: pair.privateKey, jwk: publicJwk(pair.publicKey) };
}

function proof(
  key: { privateKey: KeyObject; jwk: Record<string, unknown> },
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): string {
  const alg = key.privateKey.asymmetricKeyType === 'ec' ? 'ES256' : 'EdDSA';
  return craft(
    { typ: 'dpop+jwt', alg, jwk: key.jwk, ...header },
    { jti: randomUUID(), htm: 'GET', htu: URL_, iat: now, ...claims },
    (i) => rawSign(alg, key.privateKey, i),
  );
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof WritError && e.code === code, `expected ${code}`);
}

test('RFC 9449 §4.2 example proof verifies at its iat, with the published jkt', async () => {
  const v = new DpopVerifier({ algorithms: ['ES256'], now: at(1562262616_000) });
  const r = await v.verify(RFC_TOKEN_PROOF, { method: 'POST', url: 'https://server.example.com/token' });
  assert.equal(r.jkt, RFC_JKT);
  assert.equal(r.jti, '-BwC3ESc6acc2lTc');
  await rejects(
    v.verify(RFC_TOKEN_PROOF, { method: 'POST', url: 'https://server.example.com/token' }),
    'ERR_DPOP_REPLAYED',
  );
  // An hour later it is too old.
  const later = new DpopVerifier({ now: at(1562262616_000 + 3600_000) });
  await rejects(
    later.verify(RFC_TOKEN_PROOF, { method: 'POST', url: 'https://server.example.com/token' }),
    'ERR_DPOP_IAT_INVALID',
  );
});

test('RFC 9449 §7.1 example resource proof carries ath of its access token', async () => {
  assert.equal(accessTokenHash(RFC_ACCESS_TOKEN), 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo');
  const request = {
    method: 'GET',
    url: 'https://resource.example.org/protectedresource',
    accessToken: RFC_ACCESS_TOKEN,
  };
  const v = new DpopVerifier({ now: at(1562262618_000) });
  await rejects(v.verify(RFC_RESOURCE_PROOF, { ...request, accessToken: 'another' }), 'ERR_DPOP_ATH_MISMATCH');
  assert.equal((await v.verify(RFC_RESOURCE_PROOF, request)).jkt, RFC_JKT);
});

test('proofs built by jose verify, EdDSA and ES256', async () => {
  for (const alg of ['ES256', 'EdDSA'] as const) {
    const { privateKey, publicKey } = await jose.generateKeyPair(alg, alg === 'EdDSA' ? { crv: 'Ed25519' } : {});
    const jwk = await jose.exportJWK(publicKey);
    const p = await new jose.SignJWT({ htm: 'POST', htu: `${URL_}?q=1`, ath: accessTokenHash('tok') })
      .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk })
      .setIssuedAt(now)
      .setJti(randomUUID())
      .sign(privateKey);
    const v = new DpopVerifier({ now: at(T0) });
    const r = await v.verify(p, { method: 'POST', url: URL_, accessToken: 'tok' });
    assert.equal(r.jkt, await jose.calculateJwkThumbprint(jwk));
  }
});

test('proofs built by oauth4webapi (captured through customFetch) verify, bound to the token', async () => {
  const keys = schedule();
  const kp = await oauth.generateKeyPair('ES256');
  const handle = oauth.DPoP({}, kp);
  const jkt = await handle.calculateThumbprint();
  const token = issue(keys, { cnf: { jkt } }, Date.now);
  let captured: Headers | undefined;
  await oauth.protectedResourceRequest(token, 'GET', new URL(URL_), new Headers(), null, {
    DPoP: handle,
    [oauth.customFetch]: async (_url: string, init: RequestInit) => {
      captured = new Headers(init.headers);
      return new Response('{}', { status: 200 });
    },
  });
  assert.equal(captured?.get('authorization'), `DPoP ${token}`);
  const v = verifier(keys, { now: Date.now });
  const r = await v.verify(token, { scheme: 'DPoP', dpopProof: captured!.get('dpop')!, method: 'GET', url: URL_ });
  assert.equal(r.binding.type, 'dpop');
  assert.equal(r.binding.type === 'dpop' && r.binding.jkt, jkt);
});

test('bound token with proof: wrong htu, htm, ath, key, replay each fail with their code', async () => {
  const keys = schedule();
  const key = dpopKey();
  const jkt = jwkThumbprint(key.jwk);
  const token = issue(keys, { cnf: { jkt } });
  const v = verifier(keys);
  const ctx = (p: string, extra = {}) => ({
    scheme: 'DPoP' as const,
    dpopProof: p,
    method: 'GET',
    url: URL_,
    ...extra,
  });
  const good = proof(key, { ath: accessTokenHash(token) });
  const r = await v.verify(token, ctx(good));
  assert.deepEqual(r.binding.type === 'dpop' && r.binding.jkt, jkt);
  await rejects(v.verify(token, ctx(good)), 'ERR_DPOP_REPLAYED');
  await rejects(
    v.verify(token, ctx(proof(key, { ath: accessTokenHash(token), htu: 'https://api.example/other' }))),
    'ERR_DPOP_HTU_MISMATCH',
  );
  await rejects(
    v.verify(token, ctx(proof(key, { ath: accessTokenHash(token), htm: 'POST' }))),
    'ERR_DPOP_HTM_MISMATCH',
  );
  await rejects(v.verify(token, ctx(proof(key, { ath: accessTokenHash('other') }))), 'ERR_DPOP_ATH_MISMATCH');
  await rejects(v.verify(token, ctx(proof(key))), 'ERR_DPOP_ATH_MISMATCH');
  const stranger = dpopKey('ed25519');
  await rejects(v.verify(token, ctx(proof(stranger, { ath: accessTokenHash(token) }))), 'ERR_TOKEN_BINDING_MISMATCH');
  await rejects(v.verify(token, { scheme: 'DPoP', dpopProof: good }), 'ERR_INVALID_ARGUMENT');
});

test('proof header and claim checks', async () => {
  const key = dpopKey();
  const v = new DpopVerifier({ now: at(T0) });
  const req = { method: 'GET', url: URL_ };
  const invalid = [
    proof(key, {}, { typ: 'JWT' }),
    proof(key, {}, { typ: undefined }),
    proof(key, {}, { jwk: undefined }),
    proof(key, {}, { jwk: { ...key.jwk, d: 'AAAA' } }),
    proof(key, {}, { jwk: dpopKey().jwk }),
    proof(key, {}, { jwk: 'key' }),
    proof(key, {}, { jku: 'https://attacker.example' }),
    proof(key, {}, { crit: ['x'] }),
    proof(key, {}, { alg: 'ES384' }),
    proof(key, { jti: undefined }),
    proof(key, { jti: 'j'.repeat(300) }),
    proof(key, { htm: undefined }),
    proof(key, { iat: 'now' }),
    craft({ typ: 'dpop+jwt', alg: 'none', jwk: key.jwk }, { jti: 'x', htm: 'GET', htu: URL_, iat: now }),
    craft({ typ: 'dpop+jwt', alg: 'HS256', jwk: key.jwk }, { jti: 'x', htm: 'GET', htu: URL_, iat: now }),
    'not.a.proof',
    'x'.repeat(10_000),
  ];
  for (const p of invalid) await rejects(v.verify(p, req), 'ERR_DPOP_PROOF_INVALID');
  await rejects(v.verify(undefined, req), 'ERR_DPOP_PROOF_MISSING');
  await rejects(v.verify(proof(key, { iat: now - 301 }), req), 'ERR_DPOP_IAT_INVALID');
  await rejects(v.verify(proof(key, { iat: now + 61 }), req), 'ERR_DPOP_IAT_INVALID');
  await rejects(v.verify(proof(key, { htm: 'get' }), req), 'ERR_DPOP_HTM_MISMATCH');
  await rejects(v.verify(proof(key, { htu: 'https://api.example:8443/resource' }), req), 'ERR_DPOP_HTU_MISMATCH');
  await rejects(v.verify(proof(key, { htu: '/resource' }), req), 'ERR_DPOP_HTU_MISMATCH');
  await rejects(v.verify(proof(key), { method: 'GET', url: '/relative' }), 'ERR_INVALID_ARGUMENT');
  // The same jti under another key is not a replay (jti is scoped to the key).
  const jti = randomUUID();
  assert.ok(await v.verify(proof(key, { jti }), req));
  assert.ok(await v.verify(proof(dpopKey('ed25519'), { jti }), req));
});

test('htu normalisation (RFC 3986 §6.2.2, §6.2.3): case, default port, dot segments, percent-encoding, query', () => {
  const base = 'https://api.example/a/b';
  for (const same of [
    'HTTPS://API.Example/a/b',
    'https://api.example:443/a/b',
    'https://api.example/a/./c/../b',
    'https://api.example/a/b?x=1#frag',
    'https://api.example/%61/b',
  ]) {
    assert.equal(normalizeHtu(same), normalizeHtu(base), same);
  }
  assert.equal(normalizeHtu('http://api.example:80/'), 'http://api.example/');
  assert.equal(normalizeHtu('https://api.example/%7euser/%2f'), 'https://api.example/~user/%2F');
  for (const differs of ['http://api.example/a/b', 'https://api.example:8443/a/b', 'https://api.example/a/B']) {
    assert.notEqual(normalizeHtu(differs), normalizeHtu(base), differs);
  }
  for (const bad of ['/a/b', 'ftp://api.example/a', 'https://user:pw@api.example/', 'not a url']) {
    assert.equal(normalizeHtu(bad), undefined, bad);
  }
});

test('server nonces: required when configured, error carries a fresh nonce, windows rotate', async () => {
  let t = T0;
  const nonces = new DpopNonces({ key: schedule().dpopNonceKey(), windowSeconds: 300, now: () => t });
  const v = new DpopVerifier({ nonces, now: () => t });
  const key = dpopKey();
  const req = { method: 'GET', url: URL_ };
  const err = await v.verify(proof(key), req).catch((e: WritError) => e);
  assert.ok(err instanceof WritError && err.code === 'ERR_DPOP_NONCE_REQUIRED' && err.error === 'use_dpop_nonce');
  const nonce = err.dpopNonce!;
  assert.ok(nonces.check(nonce));
  assert.ok(await v.verify(proof(key, { nonce }), req));
  t += 400_000;
  assert.ok(await v.verify(proof(key, { nonce, iat: t / 1000 }), req));
  t += 300_000;
  await rejects(v.verify(proof(key, { nonce, iat: t / 1000 }), req), 'ERR_DPOP_NONCE_REQUIRED');
  const forged = Buffer.from(nonce, 'base64url');
  forged[forged.length - 1]! ^= 1;
  assert.equal(nonces.check(forged.toString('base64url')), false);
  assert.equal(nonces.check('x'), false);
  const other = new DpopNonces({ key: schedule().lookupKey(), now: () => t });
  assert.equal(other.check(nonces.issue()), false);
});

test('MemoryReplayCache: bounded, fails closed when full of live entries, forgets expired ones', () => {
  let t = 0;
  const c = new MemoryReplayCache({ maxEntries: 3, now: () => t });
  assert.equal(c.firstUse('a', 1000), true);
  assert.equal(c.firstUse('a', 1000), false);
  c.firstUse('b', 1000);
  c.firstUse('c', 5000);
  assert.throws(() => c.firstUse('d', 1000), { code: 'ERR_RATE_LIMITED' });
  assert.equal(c.size, 3);
  t = 2000;
  assert.equal(c.firstUse('d', 3000), true);
  assert.ok(c.size <= 3);
  assert.equal(c.firstUse('a', 3000), true);
  assert.throws(() => new MemoryReplayCache({ maxEntries: 0 }), { code: 'ERR_CONFIG_INVALID' });
});
