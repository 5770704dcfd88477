// The revocation set (kinds, `before`, expiry, bounded memory) and the feed against the fixture issuer: propagation
// time, polling fallback, authentication, malformed revocations, fail-open, close.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ClientCredentials,
  parseRevocation,
  type Revocation,
  RevocationFeed,
  RevocationSet,
  type TokenSource,
} from '../../src/gateway/index.js';
import { type AccessTokenClaims, type TokenKeyInfo, WritError } from '../../src/index.js';
import { eventually, gatewayFor } from './helpers/apps.js';
import { CLIENT, type FixtureIssuer, startFixtureIssuer } from './helpers/issuer.js';

const NOW = 1_800_000_000;
const claims = (extra: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'i',
  sub: 'alice',
  aud: 'a',
  exp: NOW + 600,
  iat: NOW,
  nbf: NOW,
  jti: 'j1',
  client_id: 'app',
  ...extra,
});
const KEY: TokenKeyInfo = { kid: 'k1', alg: 'EdDSA', generation: 1, epoch: 1 };
const rev = (r: Partial<Revocation> & Pick<Revocation, 'kind' | 'value'>): Revocation => ({
  seq: 1,
  expires_at: NOW + 3600,
  ...r,
});

test('revocation set: jti, kid, and sub/client up to `before`', () => {
  const set = new RevocationSet();
  const ms = NOW * 1000;
  assert.equal(set.has(claims(), 'k1'), false);
  set.apply(rev({ kind: 'jti', value: 'j1' }), ms);
  assert.equal(set.has(claims(), 'k1'), true);
  assert.equal(set.has(claims({ jti: 'j2' }), 'k1'), false);
  set.apply(rev({ kind: 'sub', value: 'alice', before: NOW }), ms);
  assert.equal(set.has(claims({ jti: 'j2' }), 'k1'), true, 'iat <= before');
  assert.equal(set.has(claims({ jti: 'j2', iat: NOW + 1 }), 'k1'), false, 'issued after before');
  // A later, wider revocation of the same subject wins; an earlier one does not narrow it.
  set.apply(rev({ kind: 'sub', value: 'alice', before: NOW + 10 }), ms);
  set.apply(rev({ kind: 'sub', value: 'alice', before: NOW - 10 }), ms);
  assert.equal(set.has(claims({ jti: 'j2', iat: NOW + 5 }), 'k1'), true);
  set.apply(rev({ kind: 'client', value: 'app', before: NOW }), ms);
  assert.equal(set.has(claims({ jti: 'j3', sub: 'bob' }), 'k1'), true);
  assert.equal(set.has(claims({ jti: 'j3', sub: 'bob', client_id: 'other' }), 'k1'), false);
  set.apply(rev({ kind: 'kid', value: 'k2' }), ms);
  assert.equal(set.has(claims({ jti: 'j3', sub: 'bob', client_id: 'other' }), 'k2'), true);
  assert.equal(set.size, 4);
});

test('revocation set: expired revocations are forgotten (after the clock tolerance); memory is bounded', () => {
  const set = new RevocationSet({ maxEntries: 2, clockTolerance: 60 });
  const ms = NOW * 1000;
  assert.ok(set.apply(rev({ kind: 'jti', value: 'a', expires_at: NOW + 10 }), ms));
  assert.ok(set.apply(rev({ kind: 'jti', value: 'b', expires_at: NOW + 1000 }), ms));
  assert.ok(set.apply(rev({ kind: 'jti', value: 'b', expires_at: NOW + 1000 }), ms), 'idempotent when full');
  set.sweep((NOW + 60) * 1000);
  assert.equal(set.size, 2, 'kept within the tolerance');
  // Full: expired ones are swept to make room.
  assert.ok(set.apply(rev({ kind: 'jti', value: 'c' }), (NOW + 71) * 1000));
  assert.equal(set.has(claims({ jti: 'a' }), 'k'), false);
  assert.equal(set.overflowed, false);
  // Still full: the set says it is incomplete rather than forgetting a revocation.
  assert.equal(set.apply(rev({ kind: 'jti', value: 'd' }), (NOW + 71) * 1000), false);
  assert.equal(set.overflowed, true);
});

test('revocations the gateway cannot apply are errors, not skipped', () => {
  const bad: unknown[] = [
    null,
    { seq: 0, kind: 'jti', value: 'x', expires_at: NOW },
    { seq: 1.5, kind: 'jti', value: 'x', expires_at: NOW },
    { seq: 1, kind: 'family', value: 'x', expires_at: NOW },
    { seq: 1, kind: 'jti', value: '', expires_at: NOW },
    { seq: 1, kind: 'jti', value: 'x' },
    { seq: 1, kind: 'sub', value: 'x', expires_at: NOW },
    { seq: 1, kind: 'client', value: 'x', before: '1', expires_at: NOW },
    { seq: 1, kind: 'jti', value: 'x'.repeat(1025), expires_at: NOW },
  ];
  for (const r of bad) {
    assert.throws(
      () => parseRevocation(r),
      (e: unknown) => e instanceof WritError && e.code === 'ERR_REVOCATION_UNAVAILABLE',
      JSON.stringify(r),
    );
  }
  assert.equal(parseRevocation({ seq: 3, kind: 'kid', value: 'k', expires_at: NOW }).seq, 3);
});

function feedFor(issuer: FixtureIssuer, options: Partial<ConstructorParameters<typeof RevocationFeed>[0]> = {}) {
  return new RevocationFeed({
    pollEndpoint: `${issuer.url}/revocations`,
    streamEndpoint: `${issuer.url}/revocations/stream`,
    tokens: new ClientCredentials({ tokenEndpoint: `${issuer.url}/token`, ...CLIENT, resource: issuer.url }),
    maxStaleness: 2,
    timeout: 500,
    ...options,
  });
}

function jtiOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti;
}

test('propagation over 200 revocations, from the issuer acknowledging to the first refusal: p99 <= 100 ms', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 1000 });
  const gateway = gatewayFor(issuer, { usage: false });
  try {
    await gateway.ready();
    const delays: number[] = [];
    for (let i = 0; i < 200; i++) {
      const token = issuer.sign({ sub: `user-${i}` });
      const request = { method: 'GET', url: '/', headers: { authorization: `Bearer ${token}`, host: 'h' } };
      await gateway.verifyRequest(request);
      const t0 = performance.now();
      await issuer.revoke({ kind: 'jti', value: jtiOf(token) });
      for (;;) {
        try {
          await gateway.verifyRequest(request);
        } catch (e) {
          assert.equal((e as WritError).code, 'ERR_TOKEN_REVOKED');
          break;
        }
        await new Promise((r) => setImmediate(r));
      }
      delays.push(performance.now() - t0);
    }
    delays.sort((a, b) => a - b);
    const p50 = delays[99]!;
    const p99 = delays[197]!;
    // A report, not a performance assertion (the machines are shared): `npm run bench -- propagation` measures it.
    console.log(`# revocation propagation over 200: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    assert.equal(gateway.stats.revocations?.applied, 200);
  } finally {
    await gateway.close();
    await issuer.close();
  }
});

test('a broken stream falls back to polling and stays fresh; polling only works too', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 100 });
  issuer.feed.refuseStreams = true;
  const errors: WritError[] = [];
  const broken = feedFor(issuer, { onError: (e) => errors.push(e), pollInterval: 1 });
  const polling = feedFor(issuer, { streamEndpoint: false, pollInterval: 1 });
  try {
    broken.start();
    polling.start();
    await Promise.all([broken.ready(), polling.ready()]);
    issuer.revokeNow({ kind: 'kid', value: 'k1' });
    await eventually(() => broken.stats.seq === 1 && polling.stats.seq === 1, 3000, 'polled');
    assert.equal(broken.isRevoked(claims(), KEY), true);
    assert.equal(polling.isRevoked(claims(), KEY), true);
    // Past maxStaleness, both are still fresh: polls keep them caught up.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(broken.fresh, true);
    assert.equal(polling.fresh, true);
    assert.equal(broken.stats.connects, 0);
    assert.ok(errors.some((e) => e.code === 'ERR_REVOCATION_UNAVAILABLE' && /503/.test(e.detail ?? '')));
    assert.ok(issuer.counts.poll >= 4);
  } finally {
    await Promise.all([broken.close(), polling.close()]);
    await issuer.close();
  }
});

test('a gateway with the wrong client secret never becomes fresh, fails closed, and says why', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 100 });
  const errors: WritError[] = [];
  const feed = feedFor(issuer, {
    tokens: new ClientCredentials({ tokenEndpoint: `${issuer.url}/token`, clientId: 'gateway', clientSecret: 'no' }),
    onError: (e) => errors.push(e),
  });
  try {
    feed.start();
    await eventually(() => errors.length >= 2, 3000, 'errors');
    assert.equal(errors[0]?.code, 'ERR_CLIENT_AUTH_FAILED');
    assert.equal(feed.fresh, false);
    assert.throws(
      () => feed.isRevoked(claims(), KEY),
      (e: unknown) => (e as WritError).code === 'ERR_REVOCATION_UNAVAILABLE',
    );
  } finally {
    await feed.close();
    await issuer.close();
  }
});

test('a refused token is dropped and a new one fetched (401 → invalidate)', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 100 });
  const real = new ClientCredentials({ tokenEndpoint: `${issuer.url}/token`, ...CLIENT, resource: issuer.url });
  let stale = true;
  let invalidated = 0;
  const tokens: TokenSource = {
    getToken: async () => (stale ? 'expired-token' : real.getToken()),
    invalidate: () => {
      invalidated++;
      stale = false;
    },
  };
  const feed = feedFor(issuer, { tokens });
  try {
    feed.start();
    await feed.ready();
    assert.ok(invalidated >= 1);
    assert.equal(issuer.counts.token, 1, 'one token serves the stream and the polls');
  } finally {
    await feed.close();
    await issuer.close();
  }
});

test('fail-open answers from the set it holds; close stops every request', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 100 });
  const feed = feedFor(issuer, { failOpen: true, maxStaleness: 1 });
  try {
    feed.start();
    await feed.ready();
    issuer.revokeNow({ kind: 'jti', value: 'j1' });
    await eventually(() => feed.stats.seq === 1, 2000, 'applied');
    issuer.feed.outage();
    await eventually(() => !feed.fresh, 3000, 'stale');
    assert.equal(feed.isRevoked(claims(), KEY), true);
    assert.equal(feed.isRevoked(claims({ jti: 'j9' }), KEY), false);
  } finally {
    await feed.close();
    issuer.feed.restore();
  }
  const counts = { ...issuer.counts };
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(issuer.counts, counts, 'nothing after close');
  await issuer.close();
});

test('token source: cached, renewed after most of its lifetime, shared by concurrent callers', async () => {
  const issuer = await startFixtureIssuer({ verifierTokenLifetime: 100 });
  let now = Date.now();
  const source = new ClientCredentials({ tokenEndpoint: `${issuer.url}/token`, ...CLIENT, now: () => now });
  try {
    const [a, b] = await Promise.all([source.getToken(), source.getToken()]);
    assert.equal(a, b);
    assert.equal(issuer.counts.token, 1);
    now += 60_000;
    assert.equal(await source.getToken(), a);
    now += 16_000;
    assert.notEqual(await source.getToken(), a, 'renewed at 75% of 100 s');
    assert.equal(issuer.counts.token, 2);
    source.invalidate();
    await source.getToken();
    assert.equal(issuer.counts.token, 3);
  } finally {
    await issuer.close();
  }
});
