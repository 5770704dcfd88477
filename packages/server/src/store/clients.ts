/**
 * Client registry contract. Secrets are stored only as a slow hash (`secretHash`); `private_key_jwt` clients keep
 * their public JWKS.
 * @module
 */
import type { JsonWebKey } from 'node:crypto';

/** Client authentication methods (RFC 8414 `token_endpoint_auth_methods_supported`). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

/** A registered OAuth client. */
export interface ClientRecord {
  clientId: string;
  name: string;
  /** Slow hash of the client secret (`scrypt$…`), or null for `private_key_jwt` clients. */
  secretHash: string | null;
  authMethod: ClientAuthMethod;
  /** Public keys for `private_key_jwt`. */
  jwks: { keys: JsonWebKey[] } | null;
  /** Grant types the client may use. */
  grantTypes: string[];
  /** Scopes the client may request. */
  scopes: string[];
  /** Audiences (resource indicators) the client may request; the first is the default. */
  audiences: string[];
  /** `authorization_details` types the client may request (RFC 9396). */
  authorizationDetailsTypes: string[];
  /** Only DPoP-bound tokens are issued to this client. */
  dpopBound: boolean;
  /** Format of access tokens issued to this client. */
  accessTokenFormat: 'jwt' | 'opaque';
  /** Access-token lifetime in seconds (null: the server default). */
  accessTokenTtl: number | null;
  /** Unix seconds. */
  createdAt: number;
  updatedAt: number;
}

/** What may change on an existing client. */
export type ClientPatch = Partial<Omit<ClientRecord, 'clientId' | 'createdAt' | 'updatedAt'>>;

/** Storage of clients. */
export interface ClientStore {
  get(clientId: string): Promise<ClientRecord | undefined>;
  list(): Promise<ClientRecord[]>;
  /** Inserts a client; rejects with `ERR_INVALID_REQUEST` if the id exists. */
  create(client: ClientRecord): Promise<void>;
  /** Applies a patch; undefined when the client does not exist. */
  update(clientId: string, patch: ClientPatch, now: number): Promise<ClientRecord | undefined>;
  /** Deletes a client; false when it did not exist. */
  remove(clientId: string): Promise<boolean>;
}

/** Column-wise encoding shared by both backends (JSON columns for the lists). */
export interface ClientRow {
  client_id: string;
  name: string;
  secret_hash: string | null;
  auth_method: string;
  jwks: string | null;
  grant_types: string;
  scopes: string;
  audiences: string;
  authorization_details_types: string;
  dpop_bound: number | boolean;
  access_token_format: string;
  access_token_ttl: number | null;
  created_at: number | string;
  updated_at: number | string;
}

export function clientToRow(c: ClientRecord): ClientRow {
  return {
    client_id: c.clientId,
    name: c.name,
    secret_hash: c.secretHash,
    auth_method: c.authMethod,
    jwks: c.jwks ? JSON.stringify(c.jwks) : null,
    grant_types: JSON.stringify(c.grantTypes),
    scopes: JSON.stringify(c.scopes),
    audiences: JSON.stringify(c.audiences),
    authorization_details_types: JSON.stringify(c.authorizationDetailsTypes),
    dpop_bound: c.dpopBound ? 1 : 0,
    access_token_format: c.accessTokenFormat,
    access_token_ttl: c.accessTokenTtl,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
  };
}

export function rowToClient(r: ClientRow): ClientRecord {
  return {
    clientId: r.client_id,
    name: r.name,
    secretHash: r.secret_hash,
    authMethod: r.auth_method as ClientAuthMethod,
    jwks: r.jwks ? JSON.parse(r.jwks) : null,
    grantTypes: JSON.parse(r.grant_types),
    scopes: JSON.parse(r.scopes),
    audiences: JSON.parse(r.audiences),
    authorizationDetailsTypes: JSON.parse(r.authorization_details_types),
    dpopBound: r.dpop_bound === true || r.dpop_bound === 1,
    accessTokenFormat: r.access_token_format as 'jwt' | 'opaque',
    accessTokenTtl: r.access_token_ttl,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
