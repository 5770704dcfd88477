// The peer of bench/server.mjs, in a process of its own: oidc-provider 9 with its in-memory adapter, one
// confidential client (client_secret_basic) allowed the client_credentials grant. A token request naming the
// resource `https://api.example` gets an EdDSA-signed JWT access token (resource indicators); one without a
// resource gets an opaque token, which the introspection endpoint looks up. The provider keeps nothing durable.
// Reads the client id and secret from argv; prints its port when ready.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret, resource] = process.argv.slice(2);
const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();

const { privateKey } = generateKeyPairSync('ed25519');
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'EdDSA',
      scope: 'read',
    },
  ],
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'bench', alg: 'EdDSA', use: 'sig' }] },
  scopes: ['read'],
  cookies: { keys: ['bench-cookie-key-not-used-by-these-endpoints'] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== resource) throw new Error('unknown resource');
        return { scope: 'read', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } } };
      },
    },
  },
});
server.on('request', provider.callback());
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
