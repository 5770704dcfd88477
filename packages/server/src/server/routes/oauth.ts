/**
 * The OAuth 2.0 endpoints: token (RFC 6749 §3.2, with the grants in `grants/`), introspection (RFC 7662) and
 * revocation (RFC 7009). Each handler is a short list of steps: parse, limit, authenticate, act, answer.
 * @module
 */
import {
  type AccessTokenClaims,
  isWritError,
  parseOpaqueToken,
  toWritError,
  type VerifiedDpopProof,
  WritError,
} from '@writ/verifier';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../app.js';
import { GRANT_TYPES, SUPPORTED_GRANT_TYPES } from '../client-registry.js';
import { clientCredentials } from '../grants/client-credentials.js';
import type { Grant } from '../grants/context.js';
import { jwtBearer } from '../grants/jwt-bearer.js';
import { refreshToken } from '../grants/refresh-token.js';
import { tokenExchange } from '../grants/token-exchange.js';
import { formOf, sendOAuthError } from '../http.js';

const GRANTS: Record<string, Grant> = {
  [GRANT_TYPES.clientCredentials]: clientCredentials,
  [GRANT_TYPES.refreshToken]: refreshToken,
  [GRANT_TYPES.tokenExchange]: tokenExchange,
  [GRANT_TYPES.jwtBearer]: jwtBearer,
};

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * RFC 6749 §5.1 (with RFC 8693 §2.2.1 `issued_token_type`): the successful token response, serialised by
 * fast-json-stringify. Every member the endpoint sends is listed here (one it does not list would be dropped).
 */
const TOKEN_RESPONSE = {
  type: 'object',
  required: ['access_token', 'token_type', 'expires_in'],
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    scope: { type: 'string' },
    refresh_token: { type: 'string' },
    issued_token_type: { type: 'string' },
  },
} as const;

/** RFC 6749 §5.2: the token endpoint answers 400 for everything but client authentication (401). */
function tokenEndpointError(reply: FastifyReply, req: FastifyRequest, e: unknown): FastifyReply {
  const err = toWritError(e);
  if (err.error === 'invalid_client') {
    if (req.headers.authorization?.toLowerCase().startsWith('basic ')) {
      reply.header('www-authenticate', 'Basic realm="writ"');
    }
    return sendOAuthError(reply, err, 401);
  }
  return sendOAuthError(reply, err, err.status === 401 || err.status === 403 ? 400 : err.status);
}

function singleHeader(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  if (Array.isArray(v)) throw new WritError('ERR_INVALID_REQUEST', { detail: `more than one ${name} header` });
  return v;
}

export function oauthRoutes(app: FastifyInstance, http: HttpContext): void {
  const { svc } = http;

  app.post('/oauth2/token', { schema: { response: { 200: TOKEN_RESPONSE } } }, async (req, reply) => {
    try {
      http.limit(http.perIp, req.ip);
      const { params, lists } = formOf(req.body);
      const client = await http.authenticate(req, params);
      http.limit(http.perClient, client.clientId);
      const grantType = params.grant_type;
      if (!grantType) throw new WritError('ERR_INVALID_REQUEST', { detail: 'grant_type is required' });
      const grant = SUPPORTED_GRANT_TYPES.includes(grantType) ? GRANTS[grantType] : undefined;
      if (!grant) throw new WritError('ERR_UNSUPPORTED_GRANT_TYPE', { detail: grantType.slice(0, 100) });
      if (!client.grantTypes.includes(grantType)) throw new WritError('ERR_UNAUTHORIZED_CLIENT');
      const proof = singleHeader(req, 'dpop');
      let dpop: VerifiedDpopProof | undefined;
      if (proof !== undefined) {
        dpop = await http.tokenDpop.verify(proof, { method: 'POST', url: http.urls.token });
      } else if (client.dpopBound) {
        throw new WritError('ERR_DPOP_PROOF_MISSING', { detail: 'this client only gets DPoP-bound tokens' });
      }
      const result = await grant({
        svc,
        client,
        params,
        lists,
        dpop,
        tokens: http.grantTokens,
        trusted: http.trusted,
        replay: http.replay,
      });
      if (http.nonces) reply.header('dpop-nonce', http.nonces.issue());
      return reply.headers(NO_STORE).send({
        access_token: result.access.token,
        token_type: dpop ? 'DPoP' : 'Bearer',
        expires_in: result.access.expiresIn,
        ...(result.scope.length ? { scope: result.scope.join(' ') } : {}),
        ...(result.refresh ? { refresh_token: result.refresh.token } : {}),
        ...(result.issuedTokenType ? { issued_token_type: result.issuedTokenType } : {}),
      });
    } catch (e) {
      const err = toWritError(e);
      svc.metrics.rejected.inc({ code: err.code });
      if (err.status >= 500) svc.log.error({ err, detail: err.detail }, 'token request failed');
      return tokenEndpointError(reply, req, err);
    }
  });

  // RFC 7662: only authenticated clients; an inactive token is `{"active": false}` and nothing else.
  app.post('/oauth2/introspect', async (req, reply) => {
    http.limit(http.perIp, req.ip);
    const { params } = formOf(req.body);
    await http.authenticate(req, params);
    if (!params.token) throw new WritError('ERR_INVALID_REQUEST', { detail: 'token is required' });
    reply.headers(NO_STORE);
    const active = await introspect(http, params.token);
    if (active) svc.metrics.verified.inc({ endpoint: 'introspect' });
    return active ?? { active: false };
  });

  // RFC 7009: 200 whether or not the token was known; the revocation is durable and logged before the 200.
  app.post('/oauth2/revoke', async (req, reply) => {
    http.limit(http.perIp, req.ip);
    const { params } = formOf(req.body);
    const client = await http.authenticate(req, params);
    if (!params.token) throw new WritError('ERR_INVALID_REQUEST', { detail: 'token is required' });
    const hint = params.token_type_hint;
    if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
      throw new WritError('ERR_UNSUPPORTED_TOKEN_TYPE', { detail: 'token_type_hint' });
    }
    const jti = await ownedTokenId(http, params.token, client.clientId);
    if (jti) {
      await svc.revoker.revoke(
        { kind: 'jti', jti },
        { reason: 'client_request', actor: { kind: 'client', id: client.clientId } },
      );
    }
    return reply.headers(NO_STORE).code(200).send();
  });
}

/** The RFC 7662 response for an active token, or undefined when it is not active. */
async function introspect(http: HttpContext, token: string): Promise<Record<string, unknown> | undefined> {
  const { svc } = http;
  if (token.startsWith('writ_')) {
    let kind: string;
    try {
      kind = parseOpaqueToken(token);
    } catch {
      return undefined;
    }
    const row = await svc.stores.tokens.getByHash(svc.issuer.lookupHash(token));
    const now = Date.now() / 1000;
    if (!row || row.status !== 'active' || row.expiresAt <= now) return undefined;
    const c = row.claims as Record<string, unknown>;
    const probe = { jti: row.jti, sub: row.subject, client_id: row.clientId, iat: Number(c.iat) } as AccessTokenClaims;
    if (svc.revocations.has(probe, '')) return undefined;
    if (kind === 'rt') {
      const scope = Array.isArray(c.scope) ? c.scope.join(' ') : undefined;
      return {
        active: true,
        token_type: 'refresh_token',
        client_id: row.clientId,
        sub: row.subject,
        ...(scope ? { scope } : {}),
        aud: c.aud,
        iat: c.iat,
        exp: row.expiresAt,
        iss: svc.config.issuer,
        jti: row.jti,
      };
    }
    return activeAccessToken(c as AccessTokenClaims);
  }
  try {
    const v = await http.grantTokens.verify(token, { skipBinding: true });
    return activeAccessToken(v.claims as AccessTokenClaims);
  } catch (e) {
    if (isWritError(e) && e.status >= 500) throw e;
    return undefined;
  }
}

function activeAccessToken(c: AccessTokenClaims): Record<string, unknown> {
  return { active: true, ...c, token_type: c.cnf?.jkt ? 'DPoP' : 'Bearer' };
}

/** The jti of `token` if it is a Writ token issued to `clientId` (RFC 7009 §2.1), else undefined. */
async function ownedTokenId(http: HttpContext, token: string, clientId: string): Promise<string | undefined> {
  const { svc } = http;
  if (token.startsWith('writ_')) {
    try {
      parseOpaqueToken(token);
    } catch {
      return undefined;
    }
    const row = await svc.stores.tokens.getByHash(svc.issuer.lookupHash(token));
    return row && row.clientId === clientId ? row.jti : undefined;
  }
  try {
    const v = await http.grantTokens.verify(token, { skipBinding: true });
    return v.claims.client_id === clientId ? v.claims.jti : undefined;
  } catch (e) {
    // Expired, revoked or foreign tokens need nothing; an outage must not answer 200 as if revoked.
    if (isWritError(e) && e.status >= 500) throw e;
    return undefined;
  }
}
