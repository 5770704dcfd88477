// createWritGateway and verifyRequest without a web framework: options validated before any work, discovery,
// DPoP nonces, key revocations, own key sources, close.
import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createWritGateway, type GatewayRequest, type WritGatewayOptions } from '../../src/gateway/index.js';
import { DpopNonces, StaticKeySource, WritError } from '../../src/index.js';
import { gatewayFor } from './helpers/apps.js';
import { dpopKey, dpopProof } from './helpers/dpop.js';
import { API_AUDIENCE, startFixtureIssuer } from './helpers/issuer.js';

const request = (token: string, extra: Partial<GatewayRequest> = {}): GatewayRequest => ({
  method: 'GET',
  url: '/r',
  headers: { authorization: `Bearer ${token}`, host: 'api.example' },
  ...extra,
});

async function rejectsCode(p: Promise<unknown>, code: string): Promise<WritError> {
  let caught: unknown;
  await assert.rejects(p, (e: unknown) => {
    caught = e;
    return e instanceof WritError && e.code === code;
  });
  return caught as WritError;
}

test('every option is validated before anything starts: no request reaches the issuer', async () => {
  const issuer = await startFixtureIssuer();
  const base: WritGatewayOptions = { issuer: issuer.url, audience: API_AUDIENCE, credentials: issuer.credentials };
  const bad: Array<[string, unknown]> = [
    ['unknown option', { ...base, audiences: 'x' }],
    ['issuer not a URL', { ...base, issuer: 'issuer' }],
    ['no audience', { ...base, audience: [] }],
    ['feed without credentials', { issuer: issuer.url, audience: API_AUDIENCE }],
    ['usage without credentials', { issuer: issuer.url, audience: API_AUDIENCE, revocations: false, usage: {} }],
    ['unknown feed option', { ...base, revocations: { maxStale: 3 } }],
    ['staleness out of range', { ...base, revocations: { maxStaleness: 0 } }],
    ['poll interval beyond the staleness', { ...base, revocations: { maxStaleness: 5, pollInterval: 6 } }],
    ['batch too large', { ...base, usage: { batchSize: 5000 } }],
    ['strict not a boolean', { ...base, usage: { strict: 'yes' } }],
    ['unknown jwks option', { ...base, jwks: { ttl: 3 } }],
    ['jwks bounds reversed', { ...base, jwks: { minAge: 100, maxAge: 10 } }],
    ['unknown endpoint', { ...base, endpoints: { revocations: 'http://x' } }],
    ['endpoint not http', { ...base, endpoints: { jwks_uri: 'file:///etc/passwd' } }],
    ['origin with a path', { ...base, origin: 'https://api.example/x' }],
    ['realm with a control character', { ...base, realm: 'a\nb' }],
    ['credentials incomplete', { ...base, credentials: { clientId: 'x' } }],
    ['algorithm not allowed', { ...base, algorithms: ['none'] }],
    ['dpop option unknown', { ...base, dpop: { maxAgeSeconds: 3 } }],
  ];
  try {
    for (const [name, options] of bad) {
      assert.throws(
        () => createWritGateway(options as WritGatewayOptions),
        (e: unknown) => e instanceof WritError && e.code === 'ERR_CONFIG_INVALID',
        name,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(issuer.counts, { metadata: 0, jwks: 0, token: 0, poll: 0, stream: 0, usage: 0, ledger: 0 });
  } finally {
    await issuer.close();
  }
});

test('endpoints come from the RFC 8414 metadata, fetched once; configured ones win', async () => {
  const issuer = await startFixtureIssuer();
  const gateway = gatewayFor(issuer, { usage: false });
  try {
    await gateway.ready();
    assert.equal(issuer.counts.metadata, 1);
    assert.ok(issuer.counts.jwks >= 1 && issuer.counts.token === 1 && issuer.counts.stream === 1);
    assert.equal((await gateway.verifyRequest(request(issuer.sign()))).claims.sub, 'user-1');
  } finally {
    await gateway.close();
  }
  // Metadata naming another issuer is refused (RFC 8414 §3.3).
  const errors: WritError[] = [];
  const mismatched = createWritGateway({
    issuer: `${issuer.url}/other`,
    audience: API_AUDIENCE,
    revocations: false,
    onError: (e) => errors.push(e),
  });
  try {
    await rejectsCode(mismatched.verifyRequest(request(issuer.sign())), 'ERR_ISSUER_UNAVAILABLE');
    assert.ok(errors.some((e) => e.code === 'ERR_ISSUER_UNAVAILABLE'));
  } finally {
    await mismatched.close();
  }
  const configured = createWritGateway({
    issuer: issuer.url,
    audience: API_AUDIENCE,
    revocations: false,
    endpoints: { jwks_uri: `${issuer.url}/.well-known/jwks.json` },
  });
  try {
    const metadata = issuer.counts.metadata;
    await configured.ready();
    assert.equal(issuer.counts.metadata, metadata);
  } finally {
    await configured.close();
    await issuer.close();
  }
});

test('DPoP nonces: the first proof is answered with use_dpop_nonce and a DPoP-Nonce, the retry passes', async () => {
  const issuer = await startFixtureIssuer();
  const nonces = new DpopNonces({ key: createSecretKey(randomBytes(32)) });
  const gateway = gatewayFor(issuer, { revocations: false, usage: false, dpop: { nonces } });
  try {
    const key = dpopKey();
    const token = issuer.sign({ cnf: { jkt: key.jkt } });
    const url = 'http://api.example/r';
    const headers = (nonce?: string) => ({
      authorization: `DPoP ${token}`,
      host: 'api.example',
      dpop: dpopProof(key, 'GET', url, token, nonce),
    });
    const e = await rejectsCode(
      gateway.verifyRequest(request(token, { headers: headers() })),
      'ERR_DPOP_NONCE_REQUIRED',
    );
    const response = gateway.challenge(e, request(token, { headers: headers() }));
    assert.equal(response.status, 401);
    const nonce = response.headers['dpop-nonce']!;
    assert.ok(nonces.check(nonce));
    assert.match(response.headers['www-authenticate']!, /^DPoP realm="api", error="use_dpop_nonce"/);
    const ok = await gateway.verifyRequest(request(token, { headers: headers(nonce) }));
    assert.equal(ok.binding.type, 'dpop');
  } finally {
    await gateway.close();
    await issuer.close();
  }
});

test('a key revocation refuses every token that key signed, at once', async () => {
  const issuer = await startFixtureIssuer({ heartbeatMs: 100 });
  const gateway = gatewayFor(issuer, { usage: false });
  try {
    await gateway.ready();
    const token = issuer.sign();
    await gateway.verifyRequest(request(token));
    await issuer.revoke({ kind: 'kid', value: issuer.keys.signingKey().kid });
    const deadline = Date.now() + 2000;
    let error: unknown;
    while (Date.now() < deadline && error === undefined) {
      await gateway.verifyRequest(request(issuer.sign({ sub: 'another' }))).catch((e: unknown) => {
        error = e;
      });
    }
    assert.equal((error as WritError).code, 'ERR_TOKEN_REVOKED');
  } finally {
    await gateway.close();
    await issuer.close();
  }
});

test('a key source of your own, route scopes, and close', async () => {
  const issuer = await startFixtureIssuer();
  const gateway = createWritGateway({
    issuer: issuer.url,
    audience: API_AUDIENCE,
    jwks: new StaticKeySource({ jwks: issuer.keys.jwks() }),
    revocations: false,
    scopes: 'read',
  });
  try {
    const token = issuer.sign({ scope: 'read write' });
    assert.equal((await gateway.verifyRequest(request(token), { scopes: 'write' })).claims.scope, 'read write');
    const e = await rejectsCode(gateway.verifyRequest(request(token), { scopes: ['admin'] }), 'ERR_INSUFFICIENT_SCOPE');
    assert.equal(e.scope, 'admin');
    await rejectsCode(gateway.verifyRequest(request(issuer.sign({ scope: 'write' }))), 'ERR_INSUFFICIENT_SCOPE');
    assert.equal(gateway.stats.jwks, undefined);
    // Even a request object without headers (a caller's bug) gives a WritError, never another exception.
    await rejectsCode(gateway.verifyRequest({} as GatewayRequest), 'ERR_INTERNAL');
  } finally {
    await gateway.close();
  }
  await rejectsCode(gateway.verifyRequest(request(issuer.sign())), 'ERR_SHUTTING_DOWN');
  assert.equal(issuer.counts.jwks + issuer.counts.metadata, 0);
  await issuer.close();
});
