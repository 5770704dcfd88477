/**
 * Server-side token state: refresh tokens (rotated; a spent one presented again betrays theft), opaque access
 * tokens, and lineage rows for tokens derived by exchange, so revocation can cascade. Tokens are stored only as
 * HMAC(lookup key, token); JWT access tokens without a parent or family need no row at all.
 * @module
 */

/** Token state. */
export type TokenStatus = 'active' | 'spent' | 'revoked';

/** One stored token (or lineage row). */
export interface StoredToken {
  jti: string;
  /** HMAC(lookup key, token) for refresh and opaque tokens; null for lineage-only rows. */
  hash: Buffer | null;
  kind: 'access' | 'refresh';
  clientId: string;
  subject: string;
  /** Refresh family: the refresh tokens of one grant and the access tokens issued with them. */
  familyId: string | null;
  /** The token this one was derived from (exchange, refresh). */
  parentJti: string | null;
  /** Claims (opaque access tokens) or grant context (refresh tokens), never a secret. */
  claims: Record<string, unknown>;
  /** Unix seconds. */
  expiresAt: number;
  status: TokenStatus;
}

/** Storage of token state. */
export interface TokenStore {
  put(token: StoredToken): Promise<void>;
  getByHash(hash: Buffer): Promise<StoredToken | undefined>;
  getByJti(jti: string): Promise<StoredToken | undefined>;
  /** Atomically moves an active token to `spent`; false when it was not active (a reuse). */
  spend(hash: Buffer): Promise<boolean>;
  /** Marks tokens revoked; returns how many changed. */
  setRevoked(jtis: string[]): Promise<number>;
  /** Marks every token of a subject or a client revoked; returns how many changed. */
  setRevokedWhere(field: 'subject' | 'clientId', value: string): Promise<number>;
  /** The jti of every token derived from `jti`, transitively (exchange chains), excluding `jti`. */
  descendants(jti: string): Promise<string[]>;
  /** The jti of every token of a refresh family. */
  family(familyId: string): Promise<string[]>;
  /** Deletes rows expired before `now` (Unix seconds); returns the count. */
  purgeExpired(now: number): Promise<number>;
}

/** A `tokens` row as either backend returns it (PostgreSQL returns BIGINT columns as strings). */
export interface TokenRow {
  jti: string;
  hash: Buffer | null;
  kind: string;
  client_id: string;
  subject: string;
  family_id: string | null;
  parent_jti: string | null;
  claims: string;
  expires_at: number | string;
  status: string;
}

export function rowToToken(r: TokenRow): StoredToken {
  return {
    jti: r.jti,
    hash: r.hash,
    kind: r.kind as StoredToken['kind'],
    clientId: r.client_id,
    subject: r.subject,
    familyId: r.family_id,
    parentJti: r.parent_jti,
    claims: JSON.parse(r.claims),
    expiresAt: Number(r.expires_at),
    status: r.status as TokenStatus,
  };
}

/** The column values of a token, in table order. */
export function tokenValues(t: StoredToken): unknown[] {
  return [
    t.jti,
    t.hash,
    t.kind,
    t.clientId,
    t.subject,
    t.familyId,
    t.parentJti,
    JSON.stringify(t.claims),
    t.expiresAt,
    t.status,
  ];
}
