/**
 * Token-bucket rate limits per key (client id, IP address), in memory and bounded: when the table is full the least
 * recently used bucket is dropped, which can only make the limiter more lenient for an idle key, never let memory grow.
 * @module
 */

/** Options for {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Sustained requests per second per key. */
  rate: number;
  /** Bucket size (default 2 seconds' worth). */
  burst?: number;
  /** Keys tracked at once (default 100,000). */
  maxKeys?: number;
  now?: () => number;
}

/** A bounded map of token buckets. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: number;
  readonly #burst: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(options: RateLimiterOptions) {
    if (!(options.rate > 0)) throw new RangeError('rate must be positive');
    this.#rate = options.rate;
    this.#burst = options.burst ?? options.rate * 2;
    this.#max = options.maxKeys ?? 100_000;
    this.#now = options.now ?? Date.now;
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait before a retry can succeed. */
  take(key: string): number {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b) {
      this.#buckets.delete(key);
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#rate);
      b.at = now;
    } else {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.#burst, at: now };
    }
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#rate));
  }

  /** Keys tracked (for tests). */
  get size(): number {
    return this.#buckets.size;
  }
}
