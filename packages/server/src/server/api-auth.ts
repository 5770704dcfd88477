/**
 * Authorisation of Writ's own APIs (admin, verifier feed): a Writ access token for the issuer's audience with the
 * needed scope, presented as a Bearer (or DPoP, with its proof) credential (RFC 6750 §2.1). Failures answer with an
 * RFC 6750 §3 challenge.
 * @module
 */
import { type AccessTokenClaims, WritError } from '@writ/verifier';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from './app.js';
import { bearerChallenge, sendOAuthError } from './http.js';

const CREDENTIALS = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/i;

/** The verified claims of the request's token; throws a WritError (with the challenge scheme in `detail`). */
export async function apiClaims(http: HttpContext, req: FastifyRequest, scope: string): Promise<AccessTokenClaims> {
  const auth = req.headers.authorization;
  if (auth === undefined) throw new WritError('ERR_TOKEN_MISSING', { scope });
  const m = CREDENTIALS.exec(auth);
  if (!m) throw new WritError('ERR_INVALID_REQUEST', { detail: 'malformed Authorization header' });
  const scheme = m[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  const proof = req.headers.dpop;
  if (Array.isArray(proof)) throw new WritError('ERR_INVALID_REQUEST', { detail: 'more than one DPoP header' });
  const v = await http.apiTokens.verify(m[2]!, {
    scheme,
    dpopProof: proof,
    method: req.method,
    url: `${http.urls.issuer}${req.url}`,
    scopes: [scope],
  });
  return v.claims as AccessTokenClaims;
}

/** Sends a resource-server error: the JSON body plus `WWW-Authenticate` on 401/403. */
export function sendApiError(reply: FastifyReply, err: WritError): FastifyReply {
  if (err.status === 401 || err.status === 403) {
    reply.header('www-authenticate', bearerChallenge(err, { scheme: 'Bearer' }));
  }
  return sendOAuthError(reply, err);
}

/** A Fastify preHandler demanding `scope`; the claims land on `request.writClaims`. */
export function requireScope(http: HttpContext, scope: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      (req as FastifyRequest & { writClaims?: AccessTokenClaims }).writClaims = await apiClaims(http, req, scope);
    } catch (e) {
      const err = e instanceof WritError ? e : new WritError('ERR_INTERNAL', { cause: e });
      http.svc.metrics.rejected.inc({ code: err.code });
      return sendApiError(reply, err);
    }
  };
}

/** The claims a {@link requireScope} preHandler verified. */
export function claimsOf(req: FastifyRequest): AccessTokenClaims {
  return (req as FastifyRequest & { writClaims: AccessTokenClaims }).writClaims;
}
