/**
 * Authorisation of Writ's own APIs (admin, verifier feed): a Writ access token for the issuer's audience with the
 * needed scope, presented as a Bearer (or DPoP, with its proof) credential, read and refused exactly as the gateway
 * middleware does (RFC 6750 §2.1, §3; RFC 9449 §7.1).
 * @module
 */
import { type AccessTokenClaims, toWritError } from '@writ/verifier';
import { errorResponse, presentedScheme, readCredentials, verifyContext } from '@writ/verifier/gateway';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from './app.js';

/** A Fastify preHandler demanding `scope`; the claims land on `request.writClaims`. */
export function requireScope(http: HttpContext, scope: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const credentials = readCredentials(req);
      const context = verifyContext(credentials, req.method, `${http.urls.issuer}${req.url}`);
      const v = await http.apiTokens.verify(credentials.token, { ...context, scopes: [scope] });
      (req as FastifyRequest & { writClaims?: AccessTokenClaims }).writClaims = v.claims as AccessTokenClaims;
    } catch (e) {
      const err = toWritError(e);
      http.svc.metrics.rejected.inc({ code: err.code });
      const r = errorResponse(err, { realm: 'writ', scheme: presentedScheme(req) });
      return reply.code(r.status).headers(r.headers).send(r.body);
    }
  };
}

/** The claims a {@link requireScope} preHandler verified. */
export function claimsOf(req: FastifyRequest): AccessTokenClaims {
  return (req as FastifyRequest & { writClaims: AccessTokenClaims }).writClaims;
}
