/**
 * Discovery: RFC 8414 authorization server metadata and the JWKS (RFC 7517 §5).
 * @module
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../app.js';
import { ASSERTION_ALGS } from '../client-auth.js';
import { AUTH_METHODS, SUPPORTED_GRANT_TYPES } from '../client-registry.js';

export function metadataRoutes(app: FastifyInstance, http: HttpContext): void {
  const { urls, svc } = http;
  const metadata = Object.freeze({
    issuer: urls.issuer,
    token_endpoint: urls.token,
    jwks_uri: urls.jwks,
    introspection_endpoint: urls.introspect,
    revocation_endpoint: urls.revoke,
    response_types_supported: [],
    grant_types_supported: SUPPORTED_GRANT_TYPES,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGS,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    dpop_signing_alg_values_supported: ['EdDSA', 'ES256'],
    authorization_details_types_supported: [],
    writ_revocations_endpoint: `${urls.issuer}/revocations`,
    writ_revocations_stream_endpoint: `${urls.issuer}/revocations/stream`,
    writ_usage_endpoint: `${urls.issuer}/usage`,
    writ_ledger_endpoint: `${urls.issuer}/ledger`,
    writ_ledger_key: svc.ledger.verifierKey,
  });

  app.get('/.well-known/oauth-authorization-server', async (_req, reply) => {
    return reply.header('cache-control', 'public, max-age=300').send(metadata);
  });

  app.get('/.well-known/jwks.json', async (_req, reply) => {
    return reply.header('cache-control', 'public, max-age=60').send(svc.keys.schedule.jwks());
  });
}
