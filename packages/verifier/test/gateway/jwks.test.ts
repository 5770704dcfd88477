// The remote JWKS: caching within Cache-Control bounds, one rate-limited refetch for unknown kids (counted at the
// issuer), rotation, withdrawal, hostile key sets, and an issuer that is down.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { RemoteJwks } from '../../src/gateway/index.js';
import { AccessTokenSigner, KeySchedule, publicJwk, Secret, WritError } from '../../src/index.js';
import { clock } from '../helpers/core.js';
import { gatewayFor } from './helpers/apps.js';
import { startFixtureIssuer } from './helpers/issuer.js';

async function rejectsCode(p: unknown, code: string): Promise<void> {
  await assert.rejects(
    Promise.resolve(p),
    (e: unknown) => e instanceof WritError && e.code === code,
    `expected ${code}`,
  );
}

test('known kids resolve from memory; a flood of unknown kids costs one fetch per cooldown', async () => {
  const issuer = await startFixtureIssuer();
  const c = clock(Date.now());
  try {
    const jwks = new RemoteJwks({ uri: `${issuer.url}/.well-known/jwks.json`, cooldown: 30, now: c.now });
    const kid = issuer.keys.signingKey().kid;
    await jwks.refresh();
    const first = await jwks.resolve(kid);
    assert.equal(first.alg, 'EdDSA');
    assert.equal(issuer.counts.jwks, 1);
    // Synchronous from then on.
    assert.equal(jwks.resolve(kid), first);

    const misses = Array.from({ length: 500 }, (_, i) => jwks.resolve(`random-${i}`));
    for (const m of misses) await rejectsCode(m, 'ERR_KEY_NOT_FOUND');
    assert.equal(issuer.counts.jwks, 2, 'concurrent misses share one refetch');
    for (let i = 0; i < 100; i++) await rejectsCode(jwks.resolve(`more-${i}`), 'ERR_KEY_NOT_FOUND');
    assert.equal(issuer.counts.jwks, 2, 'misses during the cooldown fetch nothing');
    c.advance(31);
    await rejectsCode(jwks.resolve('after-cooldown'), 'ERR_KEY_NOT_FOUND');
    assert.equal(issuer.counts.jwks, 3, 'one refetch after the cooldown');
    assert.deepEqual(jwks.stats, { fetches: 3, failures: 0, keys: issuer.keys.jwks().keys.length });
  } finally {
    await issuer.close();
  }
});

test('a key published after the last fetch is found by the one refetch (rotation)', async () => {
  const issuer = await startFixtureIssuer();
  try {
    const jwks = new RemoteJwks({ uri: `${issuer.url}/.well-known/jwks.json`, cooldown: 0 });
    await jwks.refresh();
    const next = new KeySchedule({
      roots: [{ generation: 2, secret: new Secret(Buffer.alloc(32, 3), 'next') }],
      maxTokenLifetime: 3600,
    });
    issuer.extraJwks = next.jwks().keys;
    const key = await jwks.resolve(next.signingKey().kid);
    assert.ok(key.key.equals(next.signingKey().key));
    assert.equal(issuer.counts.jwks, 2);
  } finally {
    await issuer.close();
  }
});

test('Cache-Control max-age sets the refresh (in the background); a withdrawn key changes the revision', async () => {
  const issuer = await startFixtureIssuer();
  const c = clock(Date.now());
  try {
    const jwks = new RemoteJwks({ uri: `${issuer.url}/.well-known/jwks.json`, minAge: 10, maxAge: 600, now: c.now });
    const extra = new KeySchedule({
      roots: [{ generation: 5, secret: new Secret(Buffer.alloc(32, 5), 'extra') }],
      maxTokenLifetime: 3600,
    });
    const extraKid = extra.signingKey().kid;
    issuer.extraJwks = extra.jwks().keys;
    await jwks.refresh();
    const revision = jwks.revision;
    issuer.extraJwks = [];
    c.advance(59);
    assert.ok(jwks.resolve(extraKid));
    assert.equal(issuer.counts.jwks, 1, 'fresh for max-age=60');
    c.advance(2);
    // Stale: the old set still answers, a refresh runs in the background.
    assert.ok(jwks.resolve(extraKid));
    await jwks.refresh();
    assert.equal(issuer.counts.jwks, 2);
    assert.notEqual(jwks.revision, revision, 'a key was withdrawn');
    await rejectsCode(jwks.resolve(extraKid), 'ERR_KEY_NOT_FOUND');
  } finally {
    await issuer.close();
  }
});

test('the gateway refuses a token signed with a withdrawn key even when it was cached', async () => {
  const issuer = await startFixtureIssuer();
  const c = clock(Date.now());
  const gateway = gatewayFor(issuer, { revocations: false, usage: false, jwks: { minAge: 1 }, now: c.now });
  try {
    const extra = new KeySchedule({
      roots: [{ generation: 5, secret: new Secret(Buffer.alloc(32, 5), 'extra') }],
      maxTokenLifetime: 3600,
      now: c.now,
    });
    issuer.extraJwks = extra.jwks().keys;
    const signer = new AccessTokenSigner({ keys: extra, issuer: issuer.url, now: c.now });
    const token = signer.sign(
      signer.claims({ sub: 's', aud: 'https://api.example', clientId: 'c', scope: 'read' }),
    ).token;
    const request = { method: 'GET', url: '/', headers: { authorization: `Bearer ${token}`, host: 'h' } };
    assert.equal((await gateway.verifyRequest(request)).cached, false);
    assert.equal((await gateway.verifyRequest(request)).cached, true);
    issuer.extraJwks = [];
    c.advance(61);
    await gateway.verifyRequest(request); // answered from the old set, refresh started
    await eventually(() => issuer.counts.jwks >= 2);
    await rejectsCode(gateway.verifyRequest(request), 'ERR_KEY_NOT_FOUND');
  } finally {
    await gateway.close();
    await issuer.close();
  }
});

async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 20));
}

test('hostile key sets: private, symmetric, kid-less, alg-less, mismatched and duplicate keys are left out', async () => {
  const good = new KeySchedule({
    roots: [{ generation: 1, secret: new Secret(Buffer.alloc(32, 8), 'g') }],
    maxTokenLifetime: 3600,
  });
  const goodKey = good.signingKey();
  const pub = { ...publicJwk(goodKey.key), kid: goodKey.kid, alg: 'EdDSA' };
  const dup = { ...publicJwk(goodKey.key), kid: 'dup', alg: 'EdDSA' };
  let body: unknown = {
    keys: [
      pub,
      { ...pub, kid: 'private', d: 'AAAA' },
      { kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', kid: 'mac', alg: 'HS256' },
      { ...pub, kid: undefined },
      { ...pub, kid: 'es-claim', alg: 'ES256' },
      { ...pub, kid: 'enc', use: 'enc' },
      { kty: 'RSA', kid: 'rsa', alg: 'RS256', n: 'AQAB', e: 'AQAB' },
      'not a key',
      dup,
      { ...dup },
    ],
  };
  let status = 200;
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  try {
    const c = clock(Date.now());
    const jwks = new RemoteJwks({ uri, cooldown: 0, now: c.now });
    assert.equal((await jwks.resolve(goodKey.kid)).alg, 'EdDSA');
    assert.equal(jwks.stats.keys, 1);
    for (const kid of ['private', 'mac', 'es-claim', 'enc', 'rsa', 'dup']) {
      await rejectsCode(jwks.resolve(kid), 'ERR_KEY_NOT_FOUND');
    }
    // Not a JWK Set at all, or the issuer failing: the known keys stay, unknown kids are "unavailable".
    for (const [s, b] of [
      [200, '{"keys": {}}'],
      [200, '{"keys": [], "keys": []}'],
      [500, '{}'],
      [200, 'not json'],
    ] as const) {
      status = s;
      body = b;
      await assert.rejects(
        jwks.refresh(),
        (e: unknown) => e instanceof WritError && e.code === 'ERR_ISSUER_UNAVAILABLE',
      );
      c.advance(1);
      await rejectsCode(jwks.resolve('unknown'), 'ERR_ISSUER_UNAVAILABLE');
      assert.ok(jwks.resolve(goodKey.kid));
    }
  } finally {
    server.close();
  }
});

test('an unreachable issuer: ERR_ISSUER_UNAVAILABLE, retried no sooner than a second later', async () => {
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  await new Promise((r) => server.close(r));
  let fetched = 0;
  const jwks = new RemoteJwks({
    uri: async () => {
      fetched++;
      return uri;
    },
    timeout: 200,
  });
  await rejectsCode(jwks.resolve('k'), 'ERR_ISSUER_UNAVAILABLE');
  await rejectsCode(jwks.resolve('k'), 'ERR_ISSUER_UNAVAILABLE');
  assert.equal(fetched, 1);
  assert.equal(jwks.stats.failures, 1);
});
