/**
 * The verified-token cache: remembers tokens that passed every token-intrinsic check (signature, header, claims,
 * times), so a repeat verification costs a hash and a map lookup. It is bounded by entries and by bytes (least
 * recently used first out), keyed by a SHA-256 of the whole token (so a token differing in any byte is a miss),
 * and an entry never outlives the token's `exp`. Failures are never cached. Request-dependent checks (scopes,
 * authorization details, binding, DPoP) and the revocation hook run on every hit.
 * @module
 */
import { hash } from 'node:crypto';
import { checkOptionNames, intOption } from '../_options.js';

/** Options of {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Maximum number of entries (default 10,000). */
  maxEntries?: number;
  /** Maximum estimated bytes of all entries (default 16 MiB). */
  maxBytes?: number;
}

interface Entry<V> {
  readonly value: V;
  readonly expiresAt: number;
  readonly bytes: number;
}

/** Per-entry overhead counted on top of the caller's estimate: the key, the map slot, the entry object. */
const ENTRY_OVERHEAD = 160;

/** A bounded LRU map from token hashes to verification results. */
export class VerifiedTokenCache<V> {
  /** Maximum number of entries. */
  readonly maxEntries: number;
  /** Maximum estimated bytes. */
  readonly maxBytes: number;
  readonly #map = new Map<string, Entry<V>>();
  /**
   * Walks the map from its least recently used end. Reused from one eviction to the next: a new iterator would step
   * over every slot deleted since the table was last rebuilt (V8 compacts a Map only when it resizes), which made an
   * eviction cost microseconds once the cache was full.
   */
  #oldest: MapIterator<string> = this.#map.keys();
  #bytes = 0;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    checkOptionNames('cache', options, ['maxEntries', 'maxBytes']);
    this.maxEntries = intOption('cache.maxEntries', options.maxEntries, 10_000, 1, 10_000_000);
    this.maxBytes = intOption('cache.maxBytes', options.maxBytes, 16 * 1024 * 1024, 1024, 2 ** 40);
  }

  /** The cache key of a token: its SHA-256, base64url. */
  static key(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The value stored under `key` if it has not expired at `now` (ms); an expired entry is dropped. */
  get(key: string, now: number): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    this.#map.delete(key);
    if (now >= e.expiresAt) {
      this.#bytes -= e.bytes;
      return undefined;
    }
    this.#map.set(key, e);
    return e.value;
  }

  /**
   * Stores `value` until `expiresAt` (ms), counting `bytes` (an estimate of its size) plus a fixed overhead. Evicts
   * least recently used entries until both bounds hold; a value that alone exceeds `maxBytes` is not stored.
   */
  set(key: string, value: V, expiresAt: number, bytes: number): void {
    const size = bytes + key.length + ENTRY_OVERHEAD;
    if (size > this.maxBytes) return;
    this.delete(key);
    while (this.#map.size >= this.maxEntries || this.#bytes + size > this.maxBytes) this.delete(this.#leastRecent());
    this.#map.set(key, { value, expiresAt, bytes: size });
    this.#bytes += size;
  }

  /** Removes one entry. */
  delete(key: string): void {
    const e = this.#map.get(key);
    if (e === undefined) return;
    this.#map.delete(key);
    this.#bytes -= e.bytes;
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
    this.#oldest = this.#map.keys();
    this.#bytes = 0;
  }

  /**
   * The least recently used key (the map is not empty). Entries behind the iterator were all evicted, and a used or
   * re-set entry moves to the end, ahead of it, so the next live key it meets is the oldest.
   */
  #leastRecent(): string {
    let next = this.#oldest.next();
    if (next.done) {
      this.#oldest = this.#map.keys();
      next = this.#oldest.next();
    }
    return next.value as string;
  }
}
