import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { test } from 'node:test';
import { type AccessTokenClaims, StaticKeySource, Verifier, WritError } from '../src/index.js';
import {
  AUDIENCE,
  clock,
  craft,
  ISSUER,
  issue,
  ROOT,
  ROOT2,
  rawSign,
  request,
  schedule,
  signer,
  T0,
  verifier,
} from './helpers/core.js';

const keys = schedule();
const signing = keys.signingKey();
const now = T0 / 1000;
const HEADER = { alg: 'EdDSA', typ: 'at+jwt', kid: signing.kid };
const CLAIMS = {
  iss: ISSUER,
  sub: 'user-1',
  aud: AUDIENCE,
  exp: now + 600,
  iat: now,
  nbf: now,
  jti: 'AAAAAAAAAAAAAAAAAAAAAA',
  client_id: 'client-1',
  scope: 'read write',
};
const edSign = (input: Buffer) => rawSign('EdDSA', signing.privateKey, input);
const token = (header: object | string = HEADER, payload: object | string = CLAIMS) => craft(header, payload, edSign);

async function rejects(v: Verifier, t: string, code: string, context = {}): Promise<void> {
  await assert.rejects(
    v.verify(t, context),
    (e: unknown) => e instanceof WritError && e.code === code,
    `expected ${code}`,
  );
}

test('valid tokens verify: EdDSA, ES256, and HS256 with only the audience key', async () => {
  const v = verifier(keys);
  const r = await v.verify(token());
  assert.deepEqual(r.claims, CLAIMS);
  assert.deepEqual(r.key, { kid: signing.kid, alg: 'EdDSA', generation: 1, epoch: keys.epoch() });
  assert.deepEqual(r.binding, { type: 'bearer' });
  assert.ok(Object.isFrozen(r.claims));

  const es = schedule({ alg: 'ES256' });
  assert.equal((await verifier(es).verify(issue(es))).key.alg, 'ES256');

  const macA = keys.audienceMacKey(AUDIENCE);
  const onlyA = verifier(new StaticKeySource({ keys: [macA] }), { algorithms: ['HS256'] });
  const s = signer(keys);
  assert.equal((await onlyA.verify(s.sign(s.claims(request()), { mac: true }).token)).key.alg, 'HS256');
  // Audience B's token: B's key is unknown to A's verifier, and B's aud is not A's.
  const forB = s.sign(s.claims(request({ aud: 'https://b.example' })), { mac: true }).token;
  await rejects(onlyA, forB, 'ERR_KEY_NOT_FOUND');
  const withB = verifier(new StaticKeySource({ keys: [macA, keys.audienceMacKey('https://b.example')] }), {
    algorithms: ['HS256'],
  });
  await rejects(withB, forB, 'ERR_JWT_AUDIENCE_MISMATCH');
});

test('alg none, and alg outside the allow-list, are refused', async () => {
  const v = verifier(keys);
  for (const alg of ['none', 'None', 'NONE', 'HS256', 'RS256', '']) {
    await rejects(v, craft({ ...HEADER, alg }, CLAIMS), 'ERR_JOSE_ALG_NOT_ALLOWED');
  }
  await rejects(v, craft({ typ: 'at+jwt', kid: signing.kid }, CLAIMS), 'ERR_TOKEN_MALFORMED');
});

test('HS256 signed with the Ed25519 public key is refused even when HS256 is allowed', async () => {
  const v = verifier(keys, { algorithms: ['EdDSA', 'HS256'] });
  const jwk = keys.jwks().keys[0]!;
  const pem = signing.key.export({ format: 'pem', type: 'spki' });
  for (const secret of [Buffer.from(jwk.x!, 'base64url'), Buffer.from(pem), Buffer.from(jwk.x!)]) {
    const forged = craft({ ...HEADER, alg: 'HS256' }, CLAIMS, (input) =>
      createHmac('sha256', secret).update(input).digest(),
    );
    await rejects(v, forged, 'ERR_JOSE_ALG_NOT_ALLOWED');
  }
});

test('kid is matched exactly: path and SQL characters find nothing', async () => {
  const v = verifier(keys);
  for (const kid of ['../../../../etc/passwd', "x' OR '1'='1", `${signing.kid}%00`, '*', signing.kid.toUpperCase()]) {
    await rejects(v, token({ ...HEADER, kid }), 'ERR_KEY_NOT_FOUND');
  }
  await rejects(v, token({ ...HEADER, kid: 42 }), 'ERR_TOKEN_MALFORMED');
});

test('jku, x5u, jwk and x5c are never honoured', async () => {
  const v = verifier(keys);
  const attacker = generateKeyPairSync('ed25519');
  const jwk = attacker.publicKey.export({ format: 'jwk' });
  const cases = [
    { jku: 'https://attacker.example/jwks.json' },
    { x5u: 'https://attacker.example/cert.pem' },
    { jwk },
    { x5c: ['MIIB'] },
  ];
  for (const extra of cases) {
    const t = craft({ ...HEADER, ...extra }, CLAIMS, (i) => nodeSign(null, i, attacker.privateKey));
    await rejects(v, t, 'ERR_JOSE_HEADER_FORBIDDEN');
  }
});

test('typ must be at+jwt; unknown crit is refused', async () => {
  const v = verifier(keys);
  await rejects(v, token({ ...HEADER, typ: 'JWT' }), 'ERR_JOSE_TYP_INVALID');
  await rejects(v, token({ alg: 'EdDSA', kid: signing.kid }), 'ERR_JOSE_TYP_INVALID');
  await rejects(v, token({ ...HEADER, typ: 'dpop+jwt' }), 'ERR_JOSE_TYP_INVALID');
  assert.ok(await v.verify(token({ ...HEADER, typ: 'application/AT+JWT' })));
  await rejects(v, token({ ...HEADER, crit: ['exp'], exp: 1 }), 'ERR_JOSE_CRIT_UNSUPPORTED');
});

test('duplicate members in header or claims are refused', async () => {
  const v = verifier(keys);
  const claimsText = JSON.stringify(CLAIMS).replace('"sub":"user-1"', '"sub":"user-1","sub":"admin"');
  await rejects(v, token(HEADER, claimsText), 'ERR_JSON_DUPLICATE_KEY');
  const headerText = JSON.stringify(HEADER).replace('"alg":"EdDSA"', '"alg":"EdDSA","alg":"HS256"');
  await rejects(v, token(headerText), 'ERR_JSON_DUPLICATE_KEY');
});

test('a 1 MiB token is refused before parsing', async () => {
  const v = verifier(keys);
  // Not even base64url: a parser would say ERR_TOKEN_MALFORMED; the size check comes first.
  const big = `${'!'.repeat(512 * 1024)}.${'b'.repeat(512 * 1024)}.c`;
  await rejects(v, big, 'ERR_TOKEN_TOO_LARGE');
});

test('10,000-deep nested JSON fails with ERR_JSON_TOO_DEEP, in the header or in signed claims', async () => {
  const v = verifier(keys, { maxTokenSize: 64 * 1024 });
  const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  await rejects(v, token(`{"alg":"EdDSA","typ":"at+jwt","kid":"${signing.kid}","x":${deep}}`), 'ERR_JSON_TOO_DEEP');
  const claimsText = `${JSON.stringify(CLAIMS).slice(0, -1)},"deep":${deep}}`;
  await rejects(v, token(HEADER, claimsText), 'ERR_JSON_TOO_DEEP');
  await rejects(verifier(keys), token(HEADER, claimsText), 'ERR_TOKEN_TOO_LARGE');
});

test('structure: segments, base64url, JSON, signature', async () => {
  const v = verifier(keys);
  const good = token();
  const [h, p, s] = good.split('.') as [string, string, string];
  await rejects(v, `${h}.${p}`, 'ERR_TOKEN_MALFORMED');
  await rejects(v, `${good}.x`, 'ERR_TOKEN_MALFORMED');
  await rejects(v, `${h}=.${p}.${s}`, 'ERR_TOKEN_MALFORMED');
  await rejects(v, `${h}.${p}.${s.slice(0, -1)}`, 'ERR_TOKEN_MALFORMED');
  await rejects(v, `${h}.${p}.${s.slice(0, -2)}AA`, 'ERR_SIGNATURE_INVALID');
  await rejects(v, `${h}.${p}.`, 'ERR_SIGNATURE_INVALID');
  await rejects(v, token(HEADER, '[1,2]'), 'ERR_TOKEN_MALFORMED');
  await rejects(v, token(HEADER, '{"a":'), 'ERR_TOKEN_MALFORMED');
  await rejects(v, token('"x"'), 'ERR_TOKEN_MALFORMED');
  await rejects(v, '', 'ERR_TOKEN_MISSING');
  await rejects(v, 42 as unknown as string, 'ERR_TOKEN_MISSING');
  const other = schedule({ roots: [{ generation: 1, secret: ROOT2 }] });
  await rejects(
    v,
    craft({ ...HEADER }, CLAIMS, (i) => rawSign('EdDSA', other.signingKey().privateKey, i)),
    'ERR_SIGNATURE_INVALID',
  );
});

test('EdDSA checked by re-signing (key schedule) agrees with public-key verification on every signature', async () => {
  const bySigning = verifier(keys, { cache: false });
  const byPublicKey = verifier(new StaticKeySource({ keys: [signing] }), { cache: false });
  assert.equal(keys.resolve(signing.kid).privateKey, signing.privateKey, 'the schedule resolves its private half');
  assert.equal(new StaticKeySource({ keys: [signing] }).resolve(signing.kid).privateKey, undefined);
  const good = token();
  const [h, p, s] = good.split('.') as [string, string, string];
  const sig = Buffer.from(s, 'base64url');
  // The group order L: adding it to S gives a malleated signature RFC 8032 verifiers must refuse.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  const sLE = sig.subarray(32);
  const sPlusL = (BigInt(`0x${Buffer.from(sLE).reverse().toString('hex')}`) + L).toString(16).padStart(64, '0');
  const malleated = Buffer.concat([sig.subarray(0, 32), Buffer.from(sPlusL, 'hex').reverse()]);
  const flipped = Buffer.from(sig);
  flipped[10]! ^= 1;
  const cases: Array<[string, string]> = [
    ['valid', good],
    ['flipped bit', `${h}.${p}.${flipped.toString('base64url')}`],
    ['S + L', `${h}.${p}.${malleated.toString('base64url')}`],
    ['short', `${h}.${p}.${sig.subarray(0, 63).toString('base64url')}`],
    ['other payload', `${h}.${token(HEADER, { ...CLAIMS, sub: 'user-2' }).split('.')[1]}.${s}`],
    [
      'other key',
      craft(HEADER, CLAIMS, (i) =>
        rawSign('EdDSA', schedule({ roots: [{ generation: 1, secret: ROOT2 }] }).signingKey().privateKey, i),
      ),
    ],
  ];
  for (const [name, t] of cases) {
    const a = await bySigning.verify(t).then(
      () => 'ok',
      (e: WritError) => e.code,
    );
    const b = await byPublicKey.verify(t).then(
      () => 'ok',
      (e: WritError) => e.code,
    );
    assert.equal(a, b, name);
    assert.equal(a, name === 'valid' ? 'ok' : 'ERR_SIGNATURE_INVALID', name);
  }
});

test('times: expired, not yet valid, issued in the future, too old, lifetime; skew is bounded', async () => {
  const v = verifier(keys, { maxTokenAge: 3600, maxTokenLifetime: 7200 });
  await rejects(v, token(HEADER, { ...CLAIMS, exp: now - 61 }), 'ERR_JWT_EXPIRED');
  assert.ok(await v.verify(token(HEADER, { ...CLAIMS, exp: now - 59 })));
  await rejects(v, token(HEADER, { ...CLAIMS, nbf: now + 61 }), 'ERR_JWT_NOT_YET_VALID');
  assert.ok(await v.verify(token(HEADER, { ...CLAIMS, nbf: now + 59 })));
  await rejects(v, token(HEADER, { ...CLAIMS, iat: now + 61, nbf: now }), 'ERR_JWT_ISSUED_IN_FUTURE');
  await rejects(v, token(HEADER, { ...CLAIMS, iat: now - 3700 }), 'ERR_JWT_TOO_OLD');
  await rejects(v, token(HEADER, { ...CLAIMS, exp: now + 7201 }), 'ERR_JWT_LIFETIME_EXCEEDED');
  for (const claim of ['exp', 'nbf', 'iat']) {
    const { [claim]: _, ...rest } = CLAIMS as Record<string, unknown>;
    await rejects(v, token(HEADER, rest), 'ERR_JWT_CLAIM_INVALID');
    await rejects(v, token(HEADER, { ...CLAIMS, [claim]: String(now) }), 'ERR_JWT_CLAIM_INVALID');
  }
});

test('claims: iss exact, aud contains the audience, required members and types', async () => {
  const v = verifier(keys, { audience: ['https://other.example', AUDIENCE] });
  await rejects(v, token(HEADER, { ...CLAIMS, iss: `${ISSUER}/` }), 'ERR_JWT_ISSUER_MISMATCH');
  await rejects(v, token(HEADER, { ...CLAIMS, aud: 'https://evil.example' }), 'ERR_JWT_AUDIENCE_MISMATCH');
  assert.ok(await v.verify(token(HEADER, { ...CLAIMS, aud: ['x', AUDIENCE] })));
  for (const claim of ['sub', 'jti', 'client_id', 'iss', 'aud']) {
    const { [claim]: _, ...rest } = CLAIMS as Record<string, unknown>;
    await rejects(v, token(HEADER, rest), 'ERR_JWT_CLAIM_INVALID');
  }
  for (const bad of [
    { aud: [] },
    { scope: 3 },
    { cnf: 'x' },
    { cnf: { jwk: {} } },
    { authorization_details: {} },
    { authorization_details: [{ actions: ['x'] }] },
    { act: { iss: 'x' } },
    { provenance: { log: 'l', index: -1 } },
  ]) {
    await rejects(v, token(HEADER, { ...CLAIMS, ...bad }), 'ERR_JWT_CLAIM_INVALID');
  }
  await rejects(verifier(keys, { requireProvenance: true }), token(), 'ERR_PROVENANCE_MISSING');
});

test('scopes: verifier-wide and per request; insufficient_scope names the required scope', async () => {
  const v = verifier(keys, { requiredScopes: 'read' });
  assert.ok(await v.verify(token(), { scopes: ['write'] }));
  await assert.rejects(v.verify(token(), { scopes: 'admin' }), { code: 'ERR_INSUFFICIENT_SCOPE', scope: 'admin' });
  await rejects(verifier(keys, { requiredScopes: ['read', 'admin'] }), token(), 'ERR_INSUFFICIENT_SCOPE');
  await rejects(v, token(HEADER, { ...CLAIMS, scope: undefined }), 'ERR_INSUFFICIENT_SCOPE');
});

test('authorization_details are matched against the request', async () => {
  const v = verifier(keys);
  const details = [{ type: 'account', locations: ['https://api.example/accounts'], actions: ['GET'] }];
  const t = token(HEADER, { ...CLAIMS, authorization_details: details });
  assert.ok(
    await v.verify(t, { authorization: { type: 'account', url: 'https://api.example/accounts/7', method: 'GET' } }),
  );
  assert.ok(await v.verify(t, { authorization: { url: 'https://api.example/accounts' } }));
  for (const authorization of [
    { type: 'payment' },
    { url: 'https://api.example/accountsX' },
    { url: 'https://api.example/admin' },
    { method: 'DELETE' },
    { action: 'write', method: 'GET' },
  ]) {
    await rejects(v, t, 'ERR_AUTHORIZATION_DETAILS_MISMATCH', { authorization });
  }
  await rejects(v, token(), 'ERR_AUTHORIZATION_DETAILS_MISMATCH', { authorization: { type: 'account' } });
});

test('bound tokens: DPoP-bound as Bearer, or without a proof, are refused; mTLS needs the certificate', async () => {
  const v = verifier(keys);
  const bound = token(HEADER, { ...CLAIMS, cnf: { jkt: 'thumb' } });
  await rejects(v, bound, 'ERR_TOKEN_BINDING_MISSING');
  await rejects(v, bound, 'ERR_TOKEN_BINDING_MISSING', { scheme: 'Bearer' });
  await rejects(v, bound, 'ERR_DPOP_PROOF_MISSING', { scheme: 'DPoP' });
  await rejects(v, token(), 'ERR_TOKEN_BINDING_MISMATCH', { scheme: 'DPoP' });
  const mtls = token(HEADER, { ...CLAIMS, cnf: { 'x5t#S256': 'cert-thumb' } });
  await rejects(v, mtls, 'ERR_TOKEN_BINDING_MISSING');
  await rejects(v, mtls, 'ERR_TOKEN_BINDING_MISMATCH', { certificateThumbprint: 'other' });
  assert.deepEqual((await v.verify(mtls, { certificateThumbprint: 'cert-thumb' })).binding, {
    type: 'mtls',
    x5tS256: 'cert-thumb',
  });
});

test('retired generation: its tokens fail with ERR_KEY_RETIRED', async () => {
  const old = issue(keys);
  const rotated = schedule({
    roots: [
      { generation: 1, secret: ROOT },
      { generation: 2, secret: ROOT2 },
    ],
    retiredGenerations: [1],
  });
  await rejects(verifier(rotated), old, 'ERR_KEY_RETIRED');
  assert.ok(await verifier(rotated).verify(issue(rotated)));
});

test('revocation hook: sync and async, consulted on cache hits, fails closed', async () => {
  const revoked = new Set<string>();
  const v = verifier(keys, { isRevoked: (c: AccessTokenClaims) => revoked.has(c.jti) });
  const t = token();
  assert.equal((await v.verify(t)).cached, false);
  assert.equal((await v.verify(t)).cached, true);
  revoked.add(CLAIMS.jti);
  await rejects(v, t, 'ERR_TOKEN_REVOKED');
  await rejects(verifier(keys, { isRevoked: async () => true }), t, 'ERR_TOKEN_REVOKED');
  assert.ok(await verifier(keys, { isRevoked: async () => false }).verify(t));
  await rejects(
    verifier(keys, {
      isRevoked: () => {
        throw new Error('feed down');
      },
    }),
    t,
    'ERR_REVOCATION_UNAVAILABLE',
  );
  await rejects(verifier(keys, { isRevoked: () => Promise.reject(new Error('x')) }), t, 'ERR_REVOCATION_UNAVAILABLE');
  await rejects(verifier(keys, { isRevoked: () => undefined as unknown as boolean }), t, 'ERR_TOKEN_REVOKED');
});

test('cache: honours exp, drops entries when the key window moves, never caches failures', async () => {
  const c = clock();
  const k = schedule({ now: c.now });
  const v = verifier(k, { now: c.now, clockTolerance: 0 });
  const t = issue(k, { lifetime: 600 }, c.now);
  assert.equal((await v.verify(t)).cached, false);
  assert.equal((await v.verify(t)).cached, true);
  c.advance(600);
  await rejects(v, t, 'ERR_JWT_EXPIRED');

  const t2 = issue(k, { lifetime: 3600 }, c.now);
  await v.verify(t2);
  c.advance(86_400 - ((c.now() / 1000) % 86_400) + 1); // next epoch: revision changes
  await rejects(v, t2, 'ERR_JWT_EXPIRED');

  // A failure is not remembered: the same bytes fail the same way each time, a valid token is unaffected.
  const bad = token(HEADER, { ...CLAIMS, aud: 'x' });
  const v2 = verifier(keys);
  await rejects(v2, bad, 'ERR_JWT_AUDIENCE_MISMATCH');
  await rejects(v2, bad, 'ERR_JWT_AUDIENCE_MISMATCH');
  assert.equal((await v2.verify(token())).cached, false);
});

test('cache bounds (entries and bytes) are never exceeded', async () => {
  const { VerifiedTokenCache } = await import('../src/index.js');
  const cache = new VerifiedTokenCache<number>({ maxEntries: 50, maxBytes: 20_000 });
  for (let i = 0; i < 2000; i++) {
    cache.set(VerifiedTokenCache.key(`t${i}`), i, Number.MAX_SAFE_INTEGER, (i * 37) % 900);
    assert.ok(cache.size <= 50 && cache.bytes <= 20_000, `after ${i}: ${cache.size} entries, ${cache.bytes} bytes`);
  }
  cache.set('huge', 1, Number.MAX_SAFE_INTEGER, 50_000);
  assert.equal(cache.get('huge', 0), undefined);
  const v = verifier(keys, { cache: { maxEntries: 3, maxBytes: 4096 } });
  for (let i = 0; i < 10; i++) await v.verify(token(HEADER, { ...CLAIMS, jti: `jti-${i}-AAAAAAAAAAAAAAAAA` }));
  assert.equal((await v.verify(token(HEADER, { ...CLAIMS, jti: 'jti-9-AAAAAAAAAAAAAAAAA' }))).cached, true);
  assert.equal((await v.verify(token(HEADER, { ...CLAIMS, jti: 'jti-0-AAAAAAAAAAAAAAAAA' }))).cached, false);
  assert.throws(() => new VerifiedTokenCache({ maxEntries: 0 }), { code: 'ERR_CONFIG_INVALID' });
});

test('verifier options are validated at construction', () => {
  const base = { issuer: ISSUER, audience: AUDIENCE, keys };
  const bad: Array<Record<string, unknown>> = [
    { ...base, issuer: '' },
    { ...base, audience: [] },
    { ...base, keys: {} },
    { ...base, algorithms: ['none'] },
    { ...base, algorithms: [] },
    { ...base, clockTolerance: -1 },
    { ...base, maxTokenSize: 10 },
    { ...base, isRevoked: 'yes' },
    { ...base, cache: { maxEntries: -1 } },
    { ...base, dpop: { algorithms: ['HS256'] } },
    { ...base, requiredScopes: [''] },
    { ...base, audiance: AUDIENCE },
  ];
  for (const options of bad) {
    assert.throws(() => new Verifier(options as never), { code: 'ERR_CONFIG_INVALID' }, Object.keys(options).join());
  }
});
