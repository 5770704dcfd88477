// The server side of bench/gateway.mjs, in a process of its own: one Fastify app with a bare route (the ceiling), a
// route that only checks the Ed25519 signature with node:crypto (no JWT checks at all: the floor of any verifier),
// a route verifying with jose (EdDSA, the issuer's keys as a local JWK Set), and routes guarded by the Writ plugin
// with usage logging off and on. Reads the issuer URL and its JWKS from argv, prints its port when ready.
import { createPublicKey, verify } from 'node:crypto';
import Fastify from 'fastify';
import * as jose from 'jose';
import { createWritGateway, writPreHandler } from '../packages/verifier/dist/src/gateway/index.js';

const [issuer, audience, jwksJson, clientId, clientSecret] = process.argv.slice(2);
const jwks = jose.createLocalJWKSet(JSON.parse(jwksJson));
const rawKeys = new Map(JSON.parse(jwksJson).keys.map((k) => [k.kid, createPublicKey({ key: k, format: 'jwk' })]));
const joseOptions = {
  issuer,
  audience,
  typ: 'at+jwt',
  algorithms: ['EdDSA'],
  requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id'],
};

const common = { issuer, audience, credentials: { clientId, clientSecret } };
const plain = createWritGateway({ ...common, usage: false });
// Usage on: the largest batches the protocol allows, a queue deep enough that nothing is dropped at these rates.
const logged = createWritGateway({ ...common, usage: { batchSize: 1000, maxQueue: 100_000, flushInterval: 200 } });
await Promise.all([plain.ready(), logged.ready()]);

const app = Fastify({ logger: false });
app.get('/bare', async () => 'ok');
app.get('/raw', async (request, reply) => {
  const token = request.headers.authorization?.slice(7) ?? '';
  const dot = token.lastIndexOf('.');
  const { kid } = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString());
  const data = Buffer.from(token.slice(0, dot));
  const sig = Buffer.from(token.slice(dot + 1), 'base64url');
  const ok = await new Promise((resolve) => verify(null, data, rawKeys.get(kid), sig, (e, v) => resolve(!e && v)));
  return ok ? 'ok' : reply.code(401).send('no');
});
app.get('/jose', async (request, reply) => {
  const m = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
  try {
    const { payload } = await jose.jwtVerify(m?.[1] ?? '', jwks, joseOptions);
    if (
      !String(payload.scope ?? '')
        .split(' ')
        .includes('read')
    )
      return reply.code(403).send('scope');
    return 'ok';
  } catch {
    return reply.code(401).send('no');
  }
});
app.get('/writ', { preHandler: writPreHandler(plain, { scopes: 'read' }) }, async () => 'ok');
app.get('/writ-usage', { preHandler: writPreHandler(logged, { scopes: 'read' }) }, async () => 'ok');
app.get('/stats', async () => ({ plain: plain.stats, logged: logged.stats }));
app.get('/cpu', async () => process.cpuUsage());
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', async () => {
  await app.close();
  await Promise.all([plain.close(), logged.close()]);
  process.exit(0);
});
