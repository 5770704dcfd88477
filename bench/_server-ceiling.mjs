// The ceiling of bench/server.mjs, in a process of its own: a bare Fastify POST route that reads a form body and
// answers a freshly signed EdDSA JWT access token (node:crypto sign with an Ed25519 KeyObject). No client
// authentication, no ledger, no storage: what any token endpoint on Fastify could reach on this machine.
// Prints its port when ready.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import Fastify from 'fastify';

const { privateKey } = generateKeyPairSync('ed25519');
const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt', kid: 'bench' })).toString('base64url');

const app = Fastify({ logger: false });
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, new URLSearchParams(body)),
);
app.post('/token', async (request) => {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: 'http://127.0.0.1',
    sub: 'bench',
    aud: 'https://api.example',
    client_id: 'bench',
    scope: request.body.get('scope') ?? 'read',
    iat: now,
    exp: now + 300,
    jti: randomBytes(16).toString('base64url'),
  };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  const signature = sign(null, Buffer.from(input), privateKey).toString('base64url');
  return { access_token: `${input}.${signature}`, token_type: 'Bearer', expires_in: 300, scope: claims.scope };
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
