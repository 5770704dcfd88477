/**
 * The JWT bearer grant (RFC 7523 §2.1): an assertion signed by a trusted identity provider about a subject is
 * exchanged for a Writ access token for that subject, within what the client may request.
 * @module
 */
import { WritError } from '@writ/verifier';
import { jwtVerify } from 'jose';
import { GRANT_TYPES } from '../client-registry.js';
import { type Grant, mintForClient } from './context.js';

const DEFAULT_ALGS = ['EdDSA', 'ES256', 'RS256'];

export const jwtBearer: Grant = async (ctx) => {
  const { svc, client, params, trusted, replay } = ctx;
  const assertion = params.assertion;
  if (!assertion) throw new WritError('ERR_INVALID_REQUEST', { detail: 'assertion is required' });
  if (assertion.length > 16_384) throw new WritError('ERR_GRANT_INVALID', { detail: 'assertion too large' });
  let iss: unknown;
  try {
    iss = JSON.parse(Buffer.from(assertion.split('.')[1] ?? '', 'base64url').toString('utf8'))?.iss;
  } catch (cause) {
    throw new WritError('ERR_GRANT_INVALID', { cause, detail: 'malformed assertion' });
  }
  const idp = typeof iss === 'string' ? trusted.get(iss) : undefined;
  if (!idp) throw new WritError('ERR_GRANT_INVALID', { detail: 'assertion issuer is not trusted' });
  if (idp.config.clients && !idp.config.clients.includes(client.clientId)) {
    throw new WritError('ERR_UNAUTHORIZED_CLIENT', { detail: 'client may not present this issuer’s assertions' });
  }
  let payload: { sub?: unknown; jti?: unknown; exp?: unknown };
  try {
    ({ payload } = await jwtVerify(assertion, idp.keys, {
      issuer: idp.config.issuer,
      audience: [`${svc.config.issuer}/oauth2/token`, svc.config.issuer],
      algorithms: idp.config.algorithms ?? DEFAULT_ALGS,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: 60,
    }));
  } catch (cause) {
    throw new WritError('ERR_GRANT_INVALID', { cause, detail: 'assertion did not verify' });
  }
  if (typeof payload.sub !== 'string' || payload.sub === '' || payload.sub.length > 256) {
    throw new WritError('ERR_GRANT_INVALID', { detail: 'assertion sub' });
  }
  if (typeof payload.exp !== 'number' || payload.exp - Date.now() / 1000 > 3600) {
    throw new WritError('ERR_GRANT_INVALID', { detail: 'assertion lives too long' });
  }
  // RFC 7523 §3 item 7: an assertion with a jti is single-use.
  if (
    typeof payload.jti === 'string' &&
    !(await replay.firstUse(`jwt-bearer:${iss}:${payload.jti}`, payload.exp * 1000))
  ) {
    throw new WritError('ERR_GRANT_INVALID', { detail: 'assertion replayed' });
  }
  return mintForClient(ctx, payload.sub, GRANT_TYPES.jwtBearer);
};
