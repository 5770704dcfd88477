/**
 * Token exchange (RFC 8693): a Writ access token (the subject token) is exchanged for one that is narrower — its
 * audiences and scopes a subset of the parent's, its lifetime ending no later than the parent's — optionally naming
 * an actor (`act`, RFC 8693 §4.1) for delegation. The new token's issuance record names its parent, and revoking
 * the parent revokes it.
 * @module
 */
import {
  type AccessTokenClaims,
  type ActorClaim,
  isWritError,
  parseOpaqueToken,
  type VerifiedAccessToken,
  WritError,
} from '@writ/verifier';
import { GRANT_TYPES } from '../client-registry.js';
import type { GrantContext } from './context.js';
import { type Grant, narrowAudience, narrowAuthorizationDetails, narrowScope } from './context.js';

export const TOKEN_TYPES = Object.freeze({
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
});

const ACCEPTED = new Set<string>(Object.values(TOKEN_TYPES));

/** Verifies a Writ access token given as a grant (JWT or opaque), with its DPoP binding when it has one. */
async function verifyGrantToken(ctx: GrantContext, token: string, type: string | undefined, name: string) {
  if (!type || !ACCEPTED.has(type)) {
    throw new WritError(type ? 'ERR_UNSUPPORTED_TOKEN_TYPE' : 'ERR_INVALID_REQUEST', {
      detail: `${name}_type must be an access token type`,
    });
  }
  let claims: AccessTokenClaims;
  try {
    if (token.startsWith('writ_')) {
      parseOpaqueToken(token);
      const row = await ctx.svc.stores.tokens.getByHash(ctx.svc.issuer.lookupHash(token));
      const c = row?.claims as AccessTokenClaims | undefined;
      if (!row || row.kind !== 'access' || row.status !== 'active' || !c || c.exp <= Date.now() / 1000) {
        throw new WritError('ERR_GRANT_INVALID', { detail: `${name} inactive` });
      }
      if (ctx.svc.revocations.has(c, '')) throw new WritError('ERR_TOKEN_REVOKED');
      claims = c;
    } else {
      // Binding is checked below against this request's own DPoP proof.
      const v: VerifiedAccessToken = await ctx.tokens.verify(token, { skipBinding: true });
      claims = v.claims as AccessTokenClaims;
    }
  } catch (cause) {
    if (isWritError(cause) && (cause.code === 'ERR_INVALID_REQUEST' || cause.code === 'ERR_UNSUPPORTED_TOKEN_TYPE')) {
      throw cause;
    }
    throw new WritError('ERR_GRANT_INVALID', { cause, detail: `${name} is not an active Writ access token` });
  }
  if (claims.cnf?.jkt && claims.cnf.jkt !== ctx.dpop?.jkt) {
    throw new WritError('ERR_GRANT_INVALID', { detail: `${name} is DPoP-bound; present a proof with its key` });
  }
  return claims;
}

export const tokenExchange: Grant = async (ctx) => {
  const { svc, client, params, lists, dpop } = ctx;
  if (!params.subject_token) throw new WritError('ERR_INVALID_REQUEST', { detail: 'subject_token is required' });
  if (params.requested_token_type && !ACCEPTED.has(params.requested_token_type)) {
    throw new WritError('ERR_UNSUPPORTED_TOKEN_TYPE', { detail: 'only access tokens can be requested' });
  }
  const parent = await verifyGrantToken(ctx, params.subject_token, params.subject_token_type, 'subject_token');
  let act: ActorClaim | undefined = parent.act;
  if (params.actor_token) {
    const actor = await verifyGrantToken(ctx, params.actor_token, params.actor_token_type, 'actor_token');
    act = { sub: actor.sub, ...(parent.act ? { act: parent.act } : {}) };
  } else if (params.actor_token_type) {
    throw new WritError('ERR_INVALID_REQUEST', { detail: 'actor_token_type without actor_token' });
  }
  const parentAud = typeof parent.aud === 'string' ? [parent.aud] : parent.aud;
  const parentScope = parent.scope ? parent.scope.split(' ') : [];
  const aud = narrowAudience(lists, parentAud);
  const scope = narrowScope(params.scope, parentScope);
  const authorizationDetails = narrowAuthorizationDetails(
    params.authorization_details,
    parent.authorization_details?.map((d) => d.type) ?? [],
    parent.authorization_details ?? [],
  );
  const access = await svc.issuer.mintAccessToken({
    client,
    grantType: GRANT_TYPES.tokenExchange,
    sub: parent.sub,
    aud,
    scope,
    cnf: dpop ? { jkt: dpop.jkt } : undefined,
    authorizationDetails,
    act,
    parentJti: parent.jti,
    notAfter: parent.exp,
  });
  return { access, scope, issuedTokenType: TOKEN_TYPES.accessToken };
};
