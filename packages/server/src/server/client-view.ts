/**
 * The public view of a client (admin API, CLI): everything but the secret hash.
 * @module
 */
import type { ClientRecord } from '../store/clients.js';

export function publicClient(c: ClientRecord): Record<string, unknown> {
  return {
    client_id: c.clientId,
    name: c.name,
    token_endpoint_auth_method: c.authMethod,
    grant_types: c.grantTypes,
    scope: c.scopes.join(' '),
    audiences: c.audiences,
    authorization_details_types: c.authorizationDetailsTypes,
    dpop_bound: c.dpopBound,
    access_token_format: c.accessTokenFormat,
    access_token_ttl: c.accessTokenTtl,
    ...(c.jwks ? { jwks: c.jwks } : {}),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}
