/**
 * The gateway middleware in Express and Fastify apps against a real Writ server (not a fixture): allowed, refused,
 * revoked within the propagation bound through the server's revocation stream, feed lost → fails closed, usage
 * events landing in the server's ledger, and strict provenance refusing a token signed with the right key but never
 * logged.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AccessTokenSigner, decodeRecord, KeySchedule, loadSecret } from '@writ/verifier';
import { createWritGateway, type WritGateway, writExpress, writFastify } from '@writ/verifier/gateway';
import express from 'express';
import Fastify from 'fastify';
import { addClient, basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';

const API = 'https://api.example';
/** The bound is 100 ms at p99 (`npm run bench -- propagation`); a shared test machine gets 2 s. */
const REVOCATION_BOUND_MS = 2000;

interface App {
  url: string;
  close(): Promise<void>;
}

const frameworks: Array<{ name: string; start(gateway: WritGateway): Promise<App> }> = [
  {
    name: 'express',
    async start(gateway) {
      const app = express();
      app.get('/orders', writExpress(gateway, { scopes: 'read' }), (req, res) => {
        res.json({ sub: (req as unknown as { writ: { claims: { sub: string } } }).writ.claims.sub });
      });
      const server = app.listen(0, '127.0.0.1');
      await new Promise<void>((r) => server.once('listening', () => r()));
      return {
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      };
    },
  },
  {
    name: 'fastify',
    async start(gateway) {
      const app = Fastify();
      await app.register(writFastify, { gateway });
      app.get('/orders', { preHandler: app.writAuth({ scopes: 'read' }) }, async (req) => ({
        sub: (req as unknown as { writ: { claims: { sub: string } } }).writ.claims.sub,
      }));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, close: () => app.close() };
    },
  },
];

for (const framework of frameworks) {
  describe(`${framework.name} middleware against a real writ serve`, () => {
    let t: TestServer;
    let gateway: WritGateway;
    let app: App;
    let client: { client_id: string; client_secret: string };

    const token = async (scope = 'read') => {
      const r = await postForm(
        `${t.url}/oauth2/token`,
        { grant_type: 'client_credentials', scope },
        {
          authorization: basic(client.client_id, client.client_secret),
        },
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.access_token as string;
    };
    const call = (tok?: string) =>
      fetch(`${app.url}/orders`, { headers: tok ? { authorization: `Bearer ${tok}` } : {} });

    before(async () => {
      t = await startTestServer('sqlite');
      client = await addClient(t, { scopes: ['read', 'write'], audiences: [API] });
      gateway = createWritGateway({
        issuer: t.url,
        audience: API,
        credentials: { clientId: t.admin.client_id, clientSecret: t.admin.client_secret },
        revocations: { maxStaleness: 2 },
        provenance: { logKey: t.server.svc.ledger.verifierKey },
        timeout: 1000,
      });
      await gateway.ready();
      app = await framework.start(gateway);
    });
    after(async () => {
      await app?.close();
      await gateway?.close();
      await t?.destroy();
    });

    test('allowed with the scope; 401 without a token; 403 without the scope', async () => {
      const ok = await call(await token());
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { sub: client.client_id });
      const none = await call();
      assert.equal(none.status, 401);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      const write = await call(await token('write'));
      assert.equal(write.status, 403);
      assert.match(write.headers.get('www-authenticate') ?? '', /insufficient_scope/);
    });

    test('a token revoked at the issuer is refused within the bound (revocation stream)', async () => {
      for (let i = 0; i < 5; i++) {
        const tok = await token();
        assert.equal((await call(tok)).status, 200);
        const r = await postForm(
          `${t.url}/oauth2/revoke`,
          { token: tok },
          {
            authorization: basic(client.client_id, client.client_secret),
          },
        );
        assert.equal(r.status, 200);
        const t0 = Date.now();
        while ((await call(tok)).status === 200) {
          assert.ok(Date.now() - t0 < REVOCATION_BOUND_MS, `refused within ${REVOCATION_BOUND_MS} ms`);
        }
        assert.equal((await call(tok)).status, 401);
      }
    });

    test('usage events reach the issuer’s ledger', async () => {
      const tok = await token();
      assert.equal((await call(tok)).status, 200);
      const jti = JSON.parse(Buffer.from(tok.split('.')[1]!, 'base64url').toString()).jti;
      const t0 = Date.now();
      for (;;) {
        t.server.svc.usage.flush();
        await t.server.svc.ledger.flush();
        const size = await t.server.svc.ledger.size();
        const found = (await t.server.svc.ledger.entries(Math.max(0, size - 200), size)).some((e) => {
          const r = decodeRecord(e.data);
          return r.type === 'token.used' && r.jti === jti && r.decision === 'allow';
        });
        if (found) break;
        assert.ok(Date.now() - t0 < 10_000, 'usage recorded within 10 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    test('strict provenance: a token signed with the right key but never logged is refused', async () => {
      // What a thief of the root secret could mint: the right key, the right claims, even a provenance claim.
      const keys = new KeySchedule({
        roots: [{ generation: 1, secret: loadSecret({ file: join(t.data, 'root-1.key') }) }],
        maxTokenLifetime: t.config.tokens.maxLifetime,
      });
      const signer = new AccessTokenSigner({ keys, issuer: t.url });
      const claims = signer.claims({ sub: client.client_id, aud: API, clientId: client.client_id, scope: 'read' });
      claims.provenance = { log: t.server.svc.ledger.origin, index: 0 };
      const forged = signer.sign(claims).token;
      const res = await call(forged);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_token');
      // Without any provenance claim: refused too.
      const { provenance: _, ...bare } = claims;
      assert.equal((await call(signer.sign({ ...bare, jti: `${bare.jti}x` }).token)).status, 401);
      // A logged token still passes.
      assert.equal((await call(await token())).status, 200);
    });

    test('feed lost: fails closed once stale, and recovers when the issuer is back', async () => {
      const tok = await token();
      assert.equal((await call(tok)).status, 200);
      await t.stop();
      const t0 = Date.now();
      let status = 200;
      while (status === 200) {
        status = (await call(tok)).status;
        assert.ok(Date.now() - t0 < 10_000, 'fails closed within 10 s');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 503);
      await t.restart();
      const t1 = Date.now();
      while ((await call(tok)).status !== 200) {
        assert.ok(Date.now() - t1 < 20_000, 'recovers within 20 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  });
}
