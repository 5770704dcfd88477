/**
 * The forward-auth endpoint as Traefik and Envoy call it, with route rules: allowed, refused, public paths, path
 * tricks, DPoP-bound tokens checked against the original request, garbage, and the usage records it leaves.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { decodeRecord } from '@writ/verifier';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { addClient, basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const API = 'https://api.example';

describe('forward-auth', () => {
  let t: TestServer;
  let read: string;
  let client: { client_id: string; client_secret: string };

  before(async () => {
    t = await startTestServer('sqlite', {
      routes: [
        { host: 'api.example', pathPrefix: '/public', public: true },
        { host: 'api.example', pathPrefix: '/orders', methods: ['GET'], audience: API, scopes: ['read'] },
        { host: 'api.example', pathPrefix: '/orders', audience: API, scopes: ['write'] },
      ],
    });
    client = await addClient(t, { scopes: ['read', 'write'], audiences: [API] });
    const r = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      {
        authorization: basic(client.client_id, client.client_secret),
      },
    );
    read = r.body.access_token as string;
  });
  after(() => t?.destroy());

  const traefik = (method: string, uri: string, headers: Record<string, string> = {}) =>
    fetch(`${t.url}/auth`, {
      headers: {
        'x-forwarded-method': method,
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'api.example',
        'x-forwarded-uri': uri,
        ...headers,
      },
    });

  test('Traefik headers: the rule for host, path and method decides; upstream headers on allow', async () => {
    const ok = await traefik('GET', '/orders/42', { authorization: `Bearer ${read}` });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-writ-client'), client.client_id);
    assert.equal(ok.headers.get('x-writ-scope'), 'read');
    const post = await traefik('POST', '/orders/42', { authorization: `Bearer ${read}` });
    assert.equal(post.status, 403, 'POST needs write');
    assert.match(post.headers.get('www-authenticate') ?? '', /scope="write"/);
    assert.equal((await traefik('GET', '/public/logo.png')).status, 200, 'public without a token');
    assert.equal((await traefik('GET', '/elsewhere', { authorization: `Bearer ${read}` })).status, 403, 'no rule');
  });

  test('path tricks do not reach a public rule', async () => {
    for (const uri of ['/public/../orders/1', '/public/%2e%2e/orders/1', '//public/..//orders/1']) {
      const r = await traefik('POST', uri);
      assert.equal(r.status, 401, uri);
    }
  });

  test('Envoy: /auth/<path> with the original method and host', async () => {
    // fetch() will not send a Host of our choosing; node:http will, as Envoy does.
    const envoy = (method: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(t.url);
        request(
          {
            host: u.hostname,
            port: u.port,
            method,
            path: '/auth/orders/1',
            headers: { host: 'api.example', authorization: `Bearer ${read}` },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end();
      });
    assert.equal(await envoy('GET'), 200);
    assert.equal(await envoy('DELETE'), 403);
  });

  test('DPoP-bound tokens: the proof must match the original request; a bound token as Bearer is refused', async () => {
    const dpopClient = await addClient(t, { scopes: ['read'], audiences: [API], dpopBound: true });
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (htm: string, htu: string, ath?: string) =>
      new SignJWT({ htm, htu, ...(ath ? { ath } : {}) })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .sign(privateKey);
    const tokenResponse = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials' },
      {
        authorization: basic(dpopClient.client_id, dpopClient.client_secret),
        dpop: await proof('POST', `${t.url}/oauth2/token`),
      },
    );
    assert.equal(tokenResponse.body.token_type, 'DPoP');
    const token = tokenResponse.body.access_token as string;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.cnf.jkt, await calculateJwkThumbprint(jwk));
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString(
      'base64url',
    );
    const ok = await traefik('GET', '/orders/9', {
      authorization: `DPoP ${token}`,
      dpop: await proof('GET', 'https://api.example/orders/9', ath),
    });
    assert.equal(ok.status, 200);
    const wrongUrl = await traefik('GET', '/orders/9', {
      authorization: `DPoP ${token}`,
      dpop: await proof('GET', 'https://api.example/orders/10', ath),
    });
    assert.equal(wrongUrl.status, 401);
    assert.match(wrongUrl.headers.get('www-authenticate') ?? '', /^DPoP .*error="invalid_dpop_proof"/);
    const asBearer = await traefik('GET', '/orders/9', { authorization: `Bearer ${token}` });
    assert.equal(asBearer.status, 401);
  });

  test('garbage never yields a 500', async () => {
    const cases: Array<Record<string, string>> = [
      { authorization: 'Bearer' },
      { authorization: `Bearer ${'x'.repeat(20_000)}` },
      { authorization: 'Basic Zm9vOmJhcg==' },
      { authorization: `Bearer ${read}`, 'x-forwarded-method': 'G E T' },
      { authorization: `Bearer ${read}`, 'x-forwarded-host': 'evil host' },
      { authorization: `Bearer ${read}`, 'x-forwarded-uri': 'no-slash' },
      { authorization: `Bearer ${read}`, 'x-forwarded-proto': 'gopher' },
    ];
    for (const headers of cases) {
      const r = await traefik('GET', '/orders/1', headers);
      // 431 is Node's own answer to a header block over its 16 KiB limit.
      assert.ok([400, 401, 403, 431].includes(r.status), `${JSON.stringify(headers).slice(0, 80)} → ${r.status}`);
    }
  });

  test('decisions on verified tokens become token.used records, folded per second', async () => {
    for (let i = 0; i < 5; i++) await traefik('GET', '/orders/77', { authorization: `Bearer ${read}` });
    await traefik('POST', '/orders/77', { authorization: `Bearer ${read}` });
    t.server.svc.usage.flush();
    await t.server.svc.ledger.flush();
    const size = await t.server.svc.ledger.size();
    const records = (await t.server.svc.ledger.entries(0, size)).map((e) => decodeRecord(e.data));
    const jti = JSON.parse(Buffer.from(read.split('.')[1]!, 'base64url').toString()).jti;
    const uses = records.filter((r) => r.type === 'token.used' && r.jti === jti) as Array<{
      decision: string;
      count?: number;
      error?: string;
    }>;
    const allowed = uses.filter((u) => u.decision === 'allow').reduce((n, u) => n + (u.count ?? 1), 0);
    assert.ok(allowed >= 5, `allowed uses recorded: ${allowed}`);
    assert.ok(uses.some((u) => u.decision === 'deny' && u.error === 'ERR_INSUFFICIENT_SCOPE'));
  });
});

describe('forward-auth with usage.forwardAuth off', () => {
  let t: TestServer;
  let read: string;

  before(async () => {
    t = await startTestServer('sqlite', {
      routes: [
        { host: 'api.example', pathPrefix: '/orders', methods: ['GET'], audience: API, scopes: ['read'] },
        { host: 'api.example', pathPrefix: '/orders', audience: API, scopes: ['write'] },
      ],
      usage: { forwardAuth: false },
    });
    const client = await addClient(t, { scopes: ['read', 'write'], audiences: [API] });
    const r = await postForm(
      `${t.url}/oauth2/token`,
      { grant_type: 'client_credentials', scope: 'read' },
      { authorization: basic(client.client_id, client.client_secret) },
    );
    read = r.body.access_token as string;
  });
  after(() => t?.destroy());

  test('decisions are answered as usual and leave no token.used record', async () => {
    const headers = {
      authorization: `Bearer ${read}`,
      'x-original-method': 'GET',
      'x-original-uri': '/orders/1',
      'x-forwarded-host': 'api.example',
    };
    assert.equal((await fetch(`${t.url}/auth`, { headers })).status, 200);
    const denied = await fetch(`${t.url}/auth`, { headers: { ...headers, 'x-original-method': 'POST' } });
    assert.equal(denied.status, 403, 'POST needs write');
    assert.match(denied.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    t.server.svc.usage.flush();
    await t.server.svc.ledger.flush();
    const size = await t.server.svc.ledger.size();
    const records = (await t.server.svc.ledger.entries(0, size)).map((e) => decodeRecord(e.data));
    assert.equal(records.filter((r) => r.type === 'token.used').length, 0);
  });
});

describe('forward-auth with dpop.requireNonce', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer('sqlite', { dpop: { requireNonce: true } });
  });
  after(() => t?.destroy());

  test('a proof without the server nonce gets 401 use_dpop_nonce with a DPoP-Nonce; with it, 200', async () => {
    const c = await addClient(t, { scopes: ['read'], audiences: [API], dpopBound: true });
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = (htm: string, htu: string, extra: Record<string, string> = {}) =>
      new SignJWT({ htm, htu, ...extra })
        .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .sign(privateKey);
    const tokenUrl = `${t.url}/oauth2/token`;
    const auth = { authorization: basic(c.client_id, c.client_secret) };
    const first = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { ...auth, dpop: await proof('POST', tokenUrl) },
    );
    assert.equal(first.status, 400);
    assert.equal(first.body.error, 'use_dpop_nonce');
    const tokenNonce = first.headers.get('dpop-nonce') ?? '';
    const issued = await postForm(
      tokenUrl,
      { grant_type: 'client_credentials' },
      { ...auth, dpop: await proof('POST', tokenUrl, { nonce: tokenNonce }) },
    );
    assert.equal(issued.status, 200);
    const token = issued.body.access_token as string;
    const ath = createHash('sha256').update(token).digest('base64url');
    const nginx = async (extra: Record<string, string>) =>
      fetch(`${t.url}/auth?audience=${encodeURIComponent(API)}&scope=read`, {
        headers: {
          'x-original-method': 'GET',
          'x-original-uri': '/orders/1',
          'x-forwarded-host': 'api.example',
          'x-forwarded-proto': 'https',
          authorization: `DPoP ${token}`,
          dpop: await proof('GET', 'https://api.example/orders/1', { ath, ...extra }),
        },
      });
    const challenged = await nginx({});
    assert.equal(challenged.status, 401);
    assert.match(challenged.headers.get('www-authenticate') ?? '', /^DPoP .*error="use_dpop_nonce"/);
    const nonce = challenged.headers.get('dpop-nonce');
    assert.ok(nonce, 'the challenge carries a fresh nonce');
    assert.equal((await nginx({ nonce: 'A'.repeat(27) })).status, 401, 'a forged nonce is refused');
    assert.equal((await nginx({ nonce })).status, 200);
  });
});
