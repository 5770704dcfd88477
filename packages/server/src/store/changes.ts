/**
 * The change feed: an ordered, durable list of changes every node (and every connected verifier) must apply —
 * revocations above all, and key and client changes. Each change has a sequence number, so a node or a
 * gateway that reconnects catches up with `since(seq)` and misses nothing.
 * @module
 */

import type { Revocation as WireRevocation } from '@writ/verifier/gateway';

/**
 * A revocation as the change feed stores it: the wire form verifiers apply (docs/verifier-protocol.md) without its
 * sequence number, which is the change's. Family, epoch and generation revocations are expanded into `jti`, `sub`,
 * `client` and `kid` revocations before they enter the feed.
 */
export type Revocation = Omit<WireRevocation, 'seq'>;

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
  /** Revocations still in force at `now` with `after < seq <= upTo`, oldest first, at most `limit`. */
  revocationsBetween(after: number, upTo: number, now: number, limit: number): Promise<Change[]>;
}

/** A small durable key/value store for node-wide settings (key rotation offset, retired generations). */
export interface SettingsStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Sets `key` only if it has no value; true when this call set it (one node wins a race). */
  setIfAbsent(key: string, value: unknown): Promise<boolean>;
}

/** Unix seconds after which a change can be forgotten (revocations), or null for changes kept forever. */
export function changeExpiry(kind: ChangeKind, data: Record<string, unknown>): number | null {
  return kind === 'revocation' && typeof data.expires_at === 'number' ? data.expires_at : null;
}
