/**
 * Client authentication at the token, introspection and revocation endpoints: `client_secret_basic`
 * (RFC 6749 §2.3.1), `client_secret_post`, and `private_key_jwt` (RFC 7523 §2.2, §3). Exactly one method per
 * request (RFC 6749 §2.3); the method must be the one the client registered. Every failure is the same
 * `invalid_client` (never saying whether the client exists).
 * @module
 */
import { type JsonWebKey, timingSafeEqual } from 'node:crypto';
import { type ReplayCache, WritError } from '@writ/verifier';
import { createLocalJWKSet, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { ClientRecord } from '../store/clients.js';
import type { ClientRegistry } from './client-registry.js';
import type { SecretVerifier } from './client-secret.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Algorithms accepted in client assertions. */
export const ASSERTION_ALGS = ['EdDSA', 'ES256', 'ES384', 'PS256', 'RS256'];

/** What authentication needs besides the request. */
export interface ClientAuthDeps {
  clients: ClientRegistry;
  secrets: SecretVerifier;
  /** Remembers assertion `jti`s until they expire (RFC 7523 §3 item 7). */
  replay: ReplayCache;
  /** Accepted `aud` values of assertions: the token endpoint URL and the issuer (RFC 7523 §3 item 3). */
  audiences: string[];
}

function fail(detail: string): WritError {
  return new WritError('ERR_CLIENT_AUTH_FAILED', { detail });
}

/** Decodes `Authorization: Basic` credentials (RFC 6749 §2.3.1: both parts form-urlencoded). */
export function parseBasic(header: string): { id: string; secret: string } {
  const m = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim());
  if (!m) throw fail('malformed Basic credentials');
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw fail('malformed Basic credentials');
  try {
    const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
  } catch {
    throw fail('malformed Basic credentials');
  }
}

const keySets = new WeakMap<object, JWTVerifyGetKey>();

/** Authenticates the client of a request; throws `ERR_CLIENT_AUTH_FAILED` (or `ERR_INVALID_REQUEST`). */
export async function authenticateClient(
  authorization: string | undefined,
  params: Record<string, string>,
  deps: ClientAuthDeps,
): Promise<ClientRecord> {
  const basic = authorization?.toLowerCase().startsWith('basic ') ? parseBasic(authorization) : undefined;
  const post = params.client_secret !== undefined;
  const jwt = params.client_assertion !== undefined || params.client_assertion_type !== undefined;
  if (Number(!!basic) + Number(post) + Number(jwt) > 1) {
    throw new WritError('ERR_INVALID_REQUEST', { detail: 'more than one client authentication method' });
  }
  if (basic) {
    if (params.client_id !== undefined && params.client_id !== basic.id) throw fail('client_id mismatch');
    return secretAuth(basic.id, basic.secret, 'client_secret_basic', deps);
  }
  if (post) return secretAuth(params.client_id ?? '', params.client_secret!, 'client_secret_post', deps);
  if (jwt) return assertionAuth(params, deps);
  throw fail('no client authentication');
}

async function secretAuth(
  id: string,
  secret: string,
  method: 'client_secret_basic' | 'client_secret_post',
  deps: ClientAuthDeps,
): Promise<ClientRecord> {
  if (id === '' || id.length > 256 || secret === '' || secret.length > 512) throw fail('bad credentials');
  const client = await deps.clients.get(id);
  // The same work whether or not the client exists: no timing oracle on client ids.
  if (!client?.secretHash) {
    timingSafeEqual(Buffer.alloc(32), Buffer.alloc(32));
    throw fail('unknown client or no secret');
  }
  if (!(await deps.secrets.verify(id, secret, client.secretHash))) throw fail('wrong secret');
  if (
    client.authMethod !== method &&
    !(client.authMethod === 'client_secret_basic' && method === 'client_secret_post')
  ) {
    throw fail(`client registered for ${client.authMethod}`);
  }
  return client;
}

async function assertionAuth(params: Record<string, string>, deps: ClientAuthDeps): Promise<ClientRecord> {
  if (params.client_assertion_type !== ASSERTION_TYPE || !params.client_assertion) {
    throw fail('unsupported client_assertion_type');
  }
  const assertion = params.client_assertion;
  if (assertion.length > 8192) throw fail('assertion too large');
  // The client is the assertion's `sub` (= `iss`); read it before verifying only to find the keys.
  let claimed: unknown;
  try {
    claimed = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'))?.sub;
  } catch {
    throw fail('malformed assertion');
  }
  if (typeof claimed !== 'string' || (params.client_id !== undefined && params.client_id !== claimed)) {
    throw fail('assertion subject missing or mismatched');
  }
  const client = await deps.clients.get(claimed);
  if (!client || client.authMethod !== 'private_key_jwt' || !client.jwks) throw fail('not a private_key_jwt client');
  let keys = keySets.get(client.jwks);
  if (!keys) {
    keys = createLocalJWKSet(client.jwks as { keys: JsonWebKey[] } as Parameters<typeof createLocalJWKSet>[0]);
    keySets.set(client.jwks, keys);
  }
  let payload: { jti?: unknown; exp?: unknown };
  try {
    ({ payload } = await jwtVerify(assertion, keys, {
      issuer: client.clientId,
      subject: client.clientId,
      audience: deps.audiences,
      algorithms: ASSERTION_ALGS,
      requiredClaims: ['exp', 'jti'],
      maxTokenAge: '10m',
      clockTolerance: 60,
    }));
  } catch (cause) {
    throw new WritError('ERR_CLIENT_AUTH_FAILED', { cause, detail: 'assertion did not verify' });
  }
  if (typeof payload.jti !== 'string' || typeof payload.exp !== 'number') throw fail('assertion jti/exp');
  if (!(await deps.replay.firstUse(`${client.clientId}:${payload.jti}`, payload.exp * 1000))) {
    throw fail('assertion replayed');
  }
  return client;
}
