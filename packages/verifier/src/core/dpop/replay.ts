/**
 * The DPoP `jti` replay cache (RFC 9449 §11.1): the contract, and a bounded in-memory implementation for one
 * process. Several nodes share the store's implementation of the same contract.
 * @module
 */
import { checkOptionNames, clockOption, intOption } from '../_options.js';
import { WritError } from '../errors.js';

/** Remembers proof identifiers until they expire. */
export interface ReplayCache {
  /**
   * Records `key` until `expiresAt` (ms). Returns true the first time a key is seen, false for a replay. Throws a
   * {@link WritError} when it cannot answer (full, or its store is down): a proof is never accepted unchecked.
   */
  firstUse(key: string, expiresAt: number): boolean | Promise<boolean>;
}

/** Options of {@link MemoryReplayCache}. */
export interface MemoryReplayCacheOptions {
  /** Maximum remembered proofs (default 100,000). */
  maxEntries?: number;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * A bounded in-process {@link ReplayCache}. When it is full of unexpired entries it fails closed with
 * `ERR_RATE_LIMITED` (forgetting a live `jti` would let that proof be replayed); it looks for expired entries to
 * drop at most once a second, so a full cache cannot be made to scan on every request.
 */
export class MemoryReplayCache implements ReplayCache {
  /** Maximum number of entries. */
  readonly maxEntries: number;
  readonly #now: () => number;
  readonly #seen = new Map<string, number>();
  #nextSweep = 0;

  constructor(options: MemoryReplayCacheOptions = {}) {
    checkOptionNames('MemoryReplayCache', options, ['maxEntries', 'now']);
    this.maxEntries = intOption('maxEntries', options.maxEntries, 100_000, 1, 100_000_000);
    this.#now = clockOption('now', options.now);
  }

  /** Number of remembered proofs. */
  get size(): number {
    return this.#seen.size;
  }

  firstUse(key: string, expiresAt: number): boolean {
    const now = this.#now();
    const known = this.#seen.get(key);
    if (known !== undefined && known > now) return false;
    if (known === undefined && this.#seen.size >= this.maxEntries) {
      if (now >= this.#nextSweep) {
        this.#nextSweep = now + 1000;
        for (const [k, exp] of this.#seen) if (exp <= now) this.#seen.delete(k);
      }
      if (this.#seen.size >= this.maxEntries) {
        throw new WritError('ERR_RATE_LIMITED', { retryAfter: 1, detail: 'DPoP replay cache is full' });
      }
    }
    this.#seen.set(key, expiresAt);
    return true;
  }
}
