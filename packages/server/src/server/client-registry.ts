/**
 * Clients: validated registration, a bounded read cache (a hot client costs no database read per request), and
 * every change recorded in the ledger and announced on the change feed (other nodes drop their cached copy).
 * @module
 */
import { type JsonWebKey, randomBytes } from 'node:crypto';
import { importPublicJwk, type RecordActor, WritError } from '@writ/verifier';
import type { Ledger } from '../ledger/ledger.js';
import type { ClientAuthMethod, ClientPatch, ClientRecord, ClientStore } from '../store/clients.js';
import type { ChangeFeed } from './change-feed.js';
import { generateClientSecret, hashClientSecret } from './client-secret.js';

/** Grant types Writ implements. */
export const GRANT_TYPES = Object.freeze({
  clientCredentials: 'client_credentials',
  refreshToken: 'refresh_token',
  tokenExchange: 'urn:ietf:params:oauth:grant-type:token-exchange',
  jwtBearer: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
});
export const SUPPORTED_GRANT_TYPES: readonly string[] = Object.values(GRANT_TYPES);
export const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
];

/** A new client's settings. Omitted lists default to nothing; the grant type defaults to client_credentials. */
export interface NewClient {
  clientId?: string;
  name: string;
  scopes?: string[];
  audiences?: string[];
  grantTypes?: string[];
  authMethod?: ClientAuthMethod;
  jwks?: { keys: JsonWebKey[] } | null;
  authorizationDetailsTypes?: string[];
  dpopBound?: boolean;
  accessTokenFormat?: 'jwt' | 'opaque';
  accessTokenTtl?: number | null;
}

// RFC 6749 §3.3 scope-token; RFC 6749 appendix A client_id (VSCHAR, kept to a safe subset here).
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const CLIENT_ID = /^[A-Za-z0-9._~-]{1,128}$/;

function bad(detail: string): WritError {
  return new WritError('ERR_INVALID_REQUEST', { detail });
}

function isAudience(v: string): boolean {
  if (v.length > 1024 || /\s/.test(v)) return false;
  try {
    return new URL(v).protocol.length > 1;
  } catch {
    return false;
  }
}

function uniqueList(name: string, v: unknown, ok: (s: string) => boolean): string[] {
  if (!Array.isArray(v) || v.length > 256) throw bad(`${name} must be a list`);
  for (const s of v) if (typeof s !== 'string' || !ok(s)) throw bad(`${name}: invalid value ${JSON.stringify(s)}`);
  return [...new Set(v as string[])];
}

/** Validates a patch (or a new client's settings), returning the normalised fields. */
export function validateClientFields(p: Partial<NewClient>): ClientPatch {
  const out: ClientPatch = {};
  if (p.name !== undefined) {
    if (typeof p.name !== 'string' || p.name.length === 0 || p.name.length > 200) throw bad('name: 1..200 characters');
    out.name = p.name;
  }
  if (p.scopes !== undefined) out.scopes = uniqueList('scopes', p.scopes, (s) => SCOPE_TOKEN.test(s));
  if (p.audiences !== undefined) out.audiences = uniqueList('audiences', p.audiences, isAudience);
  if (p.grantTypes !== undefined) {
    out.grantTypes = uniqueList('grantTypes', p.grantTypes, (s) => SUPPORTED_GRANT_TYPES.includes(s));
  }
  if (p.authorizationDetailsTypes !== undefined) {
    out.authorizationDetailsTypes = uniqueList('authorizationDetailsTypes', p.authorizationDetailsTypes, (s) =>
      /^[\x21-\x7E]{1,128}$/.test(s),
    );
  }
  if (p.authMethod !== undefined) {
    if (!AUTH_METHODS.includes(p.authMethod)) throw bad(`authMethod must be one of ${AUTH_METHODS.join(', ')}`);
    out.authMethod = p.authMethod;
  }
  if (p.jwks !== undefined) {
    if (p.jwks !== null) {
      if (typeof p.jwks !== 'object' || !Array.isArray(p.jwks.keys) || p.jwks.keys.length > 16) {
        throw bad('jwks must be {"keys": [...]} with at most 16 public keys');
      }
      for (const k of p.jwks.keys) importPublicJwk(k, 'ERR_INVALID_REQUEST');
    }
    out.jwks = p.jwks;
  }
  if (p.dpopBound !== undefined) {
    if (typeof p.dpopBound !== 'boolean') throw bad('dpopBound must be a boolean');
    out.dpopBound = p.dpopBound;
  }
  if (p.accessTokenFormat !== undefined) {
    if (p.accessTokenFormat !== 'jwt' && p.accessTokenFormat !== 'opaque') throw bad('accessTokenFormat: jwt|opaque');
    out.accessTokenFormat = p.accessTokenFormat;
  }
  if (p.accessTokenTtl !== undefined) {
    if (p.accessTokenTtl !== null && !(Number.isSafeInteger(p.accessTokenTtl) && p.accessTokenTtl > 0)) {
      throw bad('accessTokenTtl must be a positive integer (seconds) or null');
    }
    out.accessTokenTtl = p.accessTokenTtl;
  }
  return out;
}

/** The client registry of a node. */
export class ClientRegistry {
  readonly #cache = new Map<string, { client: ClientRecord | undefined; until: number }>();
  #ledger: Ledger | undefined;
  #feed: ChangeFeed | undefined;

  constructor(
    readonly store: ClientStore,
    readonly options: { cacheMs?: number; maxCached?: number } = {},
  ) {}

  /** Connects the ledger and the change feed (they are created after the registry). */
  attach(ledger: Ledger, feed: ChangeFeed): void {
    this.#ledger = ledger;
    this.#feed = feed;
  }

  /** A client by id, from the cache when fresh. */
  async get(clientId: string): Promise<ClientRecord | undefined> {
    const now = Date.now();
    const hit = this.#cache.get(clientId);
    if (hit && hit.until > now) return hit.client;
    const client = await this.store.get(clientId);
    const max = this.options.maxCached ?? 10_000;
    if (this.#cache.size >= max) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(clientId, { client, until: now + (this.options.cacheMs ?? 30_000) });
    return client;
  }

  /** Drops a cached client (called for every `client` change on the feed). */
  forget(clientId: string): void {
    this.#cache.delete(clientId);
  }

  list(): Promise<ClientRecord[]> {
    return this.store.list();
  }

  /** Registers a client; returns it and, for secret-based methods, its secret (shown once, stored only hashed). */
  async create(input: NewClient, actor: RecordActor): Promise<{ client: ClientRecord; secret?: string }> {
    const f = validateClientFields({ grantTypes: [GRANT_TYPES.clientCredentials], ...input });
    const clientId = input.clientId ?? `c_${randomBytes(12).toString('base64url')}`;
    if (!CLIENT_ID.test(clientId)) throw bad('client id: 1..128 of A-Z a-z 0-9 . _ ~ -');
    const authMethod = f.authMethod ?? (f.jwks ? 'private_key_jwt' : 'client_secret_basic');
    if (authMethod === 'private_key_jwt' && !f.jwks) throw bad('private_key_jwt needs jwks');
    const secret = authMethod === 'private_key_jwt' ? undefined : generateClientSecret();
    const now = Math.floor(Date.now() / 1000);
    const client: ClientRecord = {
      clientId,
      name: f.name ?? clientId,
      secretHash: secret ? await hashClientSecret(secret) : null,
      authMethod,
      jwks: f.jwks ?? null,
      grantTypes: f.grantTypes ?? [GRANT_TYPES.clientCredentials],
      scopes: f.scopes ?? [],
      audiences: f.audiences ?? [],
      authorizationDetailsTypes: f.authorizationDetailsTypes ?? [],
      dpopBound: f.dpopBound ?? false,
      accessTokenFormat: f.accessTokenFormat ?? 'jwt',
      accessTokenTtl: f.accessTokenTtl ?? null,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.create(client);
    await this.#record(clientId, 'created', actor);
    return secret ? { client, secret } : { client };
  }

  /** Applies validated changes; undefined when the client does not exist. */
  async update(clientId: string, patch: Partial<NewClient>, actor: RecordActor): Promise<ClientRecord | undefined> {
    const f = validateClientFields(patch);
    const updated = await this.store.update(clientId, f, Math.floor(Date.now() / 1000));
    if (updated) await this.#record(clientId, 'updated', actor, Object.keys(f));
    return updated;
  }

  /** Replaces a client's secret; returns the new one (undefined when the client does not exist). */
  async rotateSecret(clientId: string, actor: RecordActor): Promise<string | undefined> {
    const client = await this.store.get(clientId);
    if (!client) return undefined;
    if (client.authMethod === 'private_key_jwt') throw bad('this client authenticates with private_key_jwt');
    const secret = generateClientSecret();
    await this.store.update(clientId, { secretHash: await hashClientSecret(secret) }, Math.floor(Date.now() / 1000));
    await this.#record(clientId, 'secret_rotated', actor);
    return secret;
  }

  /** Deletes a client (the caller revokes its tokens); false when it did not exist. */
  async remove(clientId: string, actor: RecordActor): Promise<boolean> {
    const removed = await this.store.remove(clientId);
    if (removed) await this.#record(clientId, 'deleted', actor);
    return removed;
  }

  async #record(
    clientId: string,
    action: 'created' | 'updated' | 'deleted' | 'secret_rotated',
    actor: RecordActor,
    fields?: string[],
  ): Promise<void> {
    this.forget(clientId);
    await this.#feed?.publish([{ kind: 'client', data: { clientId } }]);
    await this.#ledger?.append({
      v: 1,
      type: 'client.changed',
      time: Date.now(),
      client_id: clientId,
      action,
      actor,
      ...(fields?.length ? { fields: fields.map((f) => f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)) } : {}),
    });
  }
}
