/**
 * The refresh token grant (RFC 6749 §6) with rotation: every use spends the token and issues a new one in the same
 * family. A spent token presented again means two parties hold it, so the whole family is revoked and the event is
 * recorded (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
 * @module
 */
import { parseOpaqueToken, WritError } from '@writ/verifier';
import { GRANT_TYPES } from '../client-registry.js';
import type { RefreshGrant } from '../issuer.js';
import { type Grant, narrowScope } from './context.js';

export const refreshToken: Grant = async ({ svc, client, params, dpop }) => {
  const presented = params.refresh_token;
  if (!presented) throw new WritError('ERR_INVALID_REQUEST', { detail: 'refresh_token is required' });
  try {
    if (parseOpaqueToken(presented) !== 'rt') throw new Error('not a refresh token');
  } catch (cause) {
    throw new WritError('ERR_GRANT_INVALID', { cause, detail: 'not a Writ refresh token' });
  }
  const hash = svc.issuer.lookupHash(presented);
  const row = await svc.stores.tokens.getByHash(hash);
  const now = Math.floor(Date.now() / 1000);
  if (!row || row.kind !== 'refresh' || row.clientId !== client.clientId) {
    throw new WritError('ERR_GRANT_INVALID', { detail: 'unknown refresh token' });
  }
  if (row.status === 'spent' || (row.status === 'active' && !(await svc.stores.tokens.spend(hash)))) {
    // Reuse of a rotated token: revoke everything of its grant before answering.
    await svc.revoker.revoke(
      { kind: 'family', familyId: row.familyId! },
      { reason: 'refresh_token_reuse', actor: { kind: 'client', id: client.clientId } },
    );
    throw new WritError('ERR_REFRESH_TOKEN_REUSED', { detail: `family ${row.familyId} revoked` });
  }
  if (row.status !== 'active' || row.expiresAt <= now) {
    throw new WritError('ERR_GRANT_INVALID', { detail: 'refresh token revoked or expired' });
  }
  const grant = row.claims as unknown as RefreshGrant;
  if (grant.cnf?.jkt && dpop?.jkt !== grant.cnf.jkt) {
    throw new WritError(dpop ? 'ERR_TOKEN_BINDING_MISMATCH' : 'ERR_DPOP_PROOF_MISSING', {
      detail: 'the refresh token is bound to a DPoP key',
    });
  }
  // Narrow to what the grant had and what the client may still use.
  const scope = narrowScope(params.scope, grant.scope).filter((s) => client.scopes.includes(s));
  const next: RefreshGrant = { ...grant, scope, grantType: GRANT_TYPES.refreshToken };
  const cnf = grant.cnf ?? (dpop ? { jkt: dpop.jkt } : undefined);
  const refresh = await svc.issuer.mintRefreshToken(
    client,
    { ...next, cnf },
    { familyId: row.familyId!, parentJti: row.jti },
  );
  const access = await svc.issuer.mintAccessToken({
    client,
    grantType: GRANT_TYPES.refreshToken,
    sub: grant.sub,
    aud: grant.aud,
    scope,
    cnf,
    authorizationDetails: grant.authorizationDetails,
    act: grant.act,
    familyId: row.familyId!,
    parentJti: refresh.jti,
  });
  return { access, refresh, scope };
};
