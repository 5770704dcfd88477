/**
 * The change feed: an ordered, durable list of changes every node (and every connected verifier) must apply —
 * revocations above all, and key and client changes. Each change has a sequence number, so a node or a
 * gateway that reconnects catches up with `since(seq)` and misses nothing.
 * @module
 */

/** What a revocation targets. `subject` and `client` revoke every token issued up to `before`. */
export type RevocationKind = 'jti' | 'subject' | 'client' | 'epoch' | 'generation' | 'family';

/** A revocation as nodes and verifiers apply it. */
export interface Revocation {
  kind: RevocationKind;
  /** The jti, subject, client id, `<generation>:<epoch>`, generation number, or family id. */
  value: string;
  /** For subject/client: tokens issued at or before this Unix time are revoked. */
  before?: number;
  /** Unix seconds after which no token this revokes can still be valid (the change may then be forgotten). */
  expiresAt: number;
  /** The jti whose revocation cascaded to this one. */
  cascadeOrigin?: string;
  reason?: string;
}

/** Kinds of change. */
export type ChangeKind = 'revocation' | 'keys' | 'client' | 'subject-erased';

/** One change; `data` is a {@link Revocation} for kind `revocation`. */
export interface Change {
  seq: number;
  kind: ChangeKind;
  data: Record<string, unknown>;
  /** Unix milliseconds. */
  createdAt: number;
}

/** Storage of the change feed. */
export interface ChangeStore {
  /** Appends changes atomically (PostgreSQL also NOTIFYs in the same transaction); returns them with `seq`. */
  append(changes: Array<{ kind: ChangeKind; data: Record<string, unknown> }>, now: number): Promise<Change[]>;
  /** Changes with `seq > after`, oldest first, at most `limit`. */
  since(after: number, limit: number): Promise<Change[]>;
  /** The highest sequence number (0 when empty). */
  latestSeq(): Promise<number>;
  /** Every revocation still in force at `now` (Unix seconds), to load at start-up. */
  activeRevocations(now: number): Promise<Change[]>;
}

/** A small durable key/value store for node-wide settings (key rotation offset, retired generations). */
export interface SettingsStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

/** Unix seconds after which a change can be forgotten (revocations), or null for changes kept forever. */
export function changeExpiry(kind: ChangeKind, data: Record<string, unknown>): number | null {
  return kind === 'revocation' && typeof data.expiresAt === 'number' ? data.expiresAt : null;
}
