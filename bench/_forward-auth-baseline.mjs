// The baselines of bench/forward-auth.mjs, in a process of their own: one Fastify app with a bare GET returning 200
// (the ceiling) and routes that verify the request's token with jose, EdDSA (the Writ node's keys as a local JWK Set)
// and HS256 (for reference), with the same claims and scope checks as Writ's /auth. Reads the issuer, the audience
// and the JWKS from argv, the HS256 key from the environment (BENCH_HS256_KEY, a throw-away key made by the bench),
// and prints its port when ready.
import Fastify from 'fastify';
import * as jose from 'jose';

const [issuer, audience, jwksJson] = process.argv.slice(2);
const jwks = jose.createLocalJWKSet(JSON.parse(jwksJson));
const hs256 = Buffer.from(process.env.BENCH_HS256_KEY ?? '', 'base64url');
const common = {
  issuer,
  audience,
  typ: 'at+jwt',
  requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'client_id'],
};
const eddsa = { ...common, algorithms: ['EdDSA'] };
const hmac = { ...common, algorithms: ['HS256'] };

const app = Fastify({ logger: false });
app.get('/bare', async (_request, reply) => reply.code(200).send());

const guarded = (key, options) => async (request, reply) => {
  const m = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '');
  try {
    const { payload } = await jose.jwtVerify(m?.[1] ?? '', key, options);
    if (
      !String(payload.scope ?? '')
        .split(' ')
        .includes('read')
    )
      return reply.code(403).send();
    return reply.code(200).header('x-writ-subject', payload.sub).send();
  } catch {
    return reply.code(401).send();
  }
};
app.get('/jose-eddsa', guarded(jwks, eddsa));
app.get('/jose-hs256', guarded(hs256, hmac));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
