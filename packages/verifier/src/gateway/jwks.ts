/**
 * The issuer's JWKS, fetched and cached: a {@link KeySource} for the core `Verifier` inside another process.
 *
 * - Known `kid`: answered from memory, synchronously. Once the set is older than its max age (the issuer's
 *   `Cache-Control: max-age`, held within bounds), the next lookup refreshes it in the background and keeps
 *   answering from the old set meanwhile (a withdrawn key stops verifying within one max age; to stop one at once,
 *   revoke its `kid`).
 * - Unknown `kid`: at most one refetch, rate-limited by a cooldown. Concurrent misses wait for the same fetch; a
 *   miss during the cooldown fails at once, so a flood of random `kid`s costs at most one fetch per cooldown.
 * - Only public signature keys are imported, each bound to its one `alg` (RFC 8725 §3.1); a member that is not
 *   one (private, symmetric, unknown type, no `kid`, duplicate `kid`) is left out, the rest of the set still counts.
 * @module
 */
import type { JwsAlgorithm } from '../core/_alg.js';
import { checkOptionNames, clockOption, configError, intOption } from '../core/_options.js';
import { isWritError, WritError } from '../core/errors.js';
import { jwkVerificationKey } from '../core/keys/jwk.js';
import type { KeySource, VerificationKey } from '../core/keys/source.js';
import { getJsonObject, signalOption, type UrlSource, urlSourceOption } from './_http.js';

/** Options of {@link RemoteJwks}. */
export interface RemoteJwksOptions {
  /** The JWKS URL (`jwks_uri`), or a function resolving it (e.g. from the issuer's metadata). */
  uri: UrlSource;
  /** Algorithms whose keys are kept (default `EdDSA`, `ES256`); keys for any other are left out. */
  algorithms?: readonly JwsAlgorithm[];
  /** Lower bound on the cache lifetime in seconds, whatever `Cache-Control` says (default 30). */
  minAge?: number;
  /** Upper bound on the cache lifetime in seconds, and the lifetime when the issuer gives none (default 600). */
  maxAge?: number;
  /** Seconds between two fetches caused by unknown `kid`s (default 30). */
  cooldown?: number;
  /** Milliseconds for one fetch (default 5,000). */
  timeout?: number;
  /** Aborts fetches in flight (the owner is closing). */
  signal?: AbortSignal;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Counters of a {@link RemoteJwks}. */
export interface RemoteJwksStats {
  /** Fetches attempted. */
  readonly fetches: number;
  /** Fetches that failed (network, status, body). */
  readonly failures: number;
  /** Keys held. */
  readonly keys: number;
}

const OPTION_NAMES = ['uri', 'algorithms', 'minAge', 'maxAge', 'cooldown', 'timeout', 'signal', 'now'];
const MAX_JWKS_BYTES = 256 * 1024;
const MAX_KEYS = 100;
/** After a failed fetch, the next one may start this much later (whatever triggers it). */
const RETRY_AFTER_FAILURE_MS = 1000;
const MAX_AGE = /(?:^|,)\s*max-age\s*=\s*"?(\d{1,9})"?\s*(?:,|$)/i;
const NO_CACHE = /(?:^|,)\s*(?:no-cache|no-store)\s*(?:,|$)/i;

/** The issuer's published keys, cached. */
export class RemoteJwks implements KeySource {
  readonly #uri: () => Promise<string>;
  readonly #algorithms: ReadonlySet<string>;
  readonly #minAgeMs: number;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #timeout: number;
  readonly #signal: AbortSignal | undefined;
  readonly #now: () => number;
  #keys = new Map<string, VerificationKey>();
  #revision = 0;
  /** Whether the last fetch succeeded (an unknown `kid` is only "not found" when it did). */
  #lastOk = false;
  #staleAt = 0;
  #nextMissFetch = 0;
  #pending: Promise<void> | undefined;
  #fetches = 0;
  #failures = 0;

  constructor(options: RemoteJwksOptions) {
    checkOptionNames('RemoteJwks', options, OPTION_NAMES);
    this.#uri = urlSourceOption('jwks.uri', options.uri);
    const algorithms = options.algorithms ?? ['EdDSA', 'ES256'];
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw configError('jwks.algorithms', 'non-empty list');
    this.#algorithms = new Set(algorithms);
    this.#minAgeMs = intOption('jwks.minAge', options.minAge, 30, 0, 86_400) * 1000;
    this.#maxAgeMs = intOption('jwks.maxAge', options.maxAge, 600, 1, 7 * 86_400) * 1000;
    if (this.#minAgeMs > this.#maxAgeMs) throw configError('jwks.minAge', 'must not exceed jwks.maxAge');
    this.#cooldownMs = intOption('jwks.cooldown', options.cooldown, 30, 0, 86_400) * 1000;
    this.#timeout = intOption('jwks.timeout', options.timeout, 5000, 1, 120_000);
    this.#signal = signalOption('jwks.signal', options.signal);
    this.#now = clockOption('jwks.now', options.now);
  }

  /**
   * Changes when a refresh withdrew (or replaced) a key that was held before. The verifier reads it on every
   * verification, cached ones included, so reading it is also what starts the refresh of a stale set.
   */
  get revision(): number {
    this.#refreshIfStale();
    return this.#revision;
  }

  /** Counters for metrics. */
  get stats(): RemoteJwksStats {
    return { fetches: this.#fetches, failures: this.#failures, keys: this.#keys.size };
  }

  /**
   * The key named `kid`. Known keys come back synchronously; an unknown `kid` waits for at most one (shared,
   * rate-limited) refetch, then fails with `ERR_KEY_NOT_FOUND`, or `ERR_ISSUER_UNAVAILABLE` when the last fetch
   * failed.
   */
  resolve(kid: string): VerificationKey | Promise<VerificationKey> {
    const key = this.#keys.get(kid);
    if (key !== undefined) {
      this.#refreshIfStale();
      return key;
    }
    return this.#miss(kid, this.#now());
  }

  /** Fetches the set now (or joins the fetch in flight). Rejects with `ERR_ISSUER_UNAVAILABLE` when it fails. */
  refresh(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #refreshIfStale(): void {
    if (this.#pending === undefined && this.#staleAt !== 0 && this.#now() >= this.#staleAt) {
      this.refresh().catch(() => {});
    }
  }

  async #miss(kid: string, now: number): Promise<VerificationKey> {
    let failure: unknown;
    if (this.#pending !== undefined || now >= this.#nextMissFetch) {
      this.#nextMissFetch = now + this.#cooldownMs;
      await this.refresh().catch((e: unknown) => {
        failure = e;
      });
    }
    const key = this.#keys.get(kid);
    if (key !== undefined) return key;
    if (this.#lastOk) throw new WritError('ERR_KEY_NOT_FOUND');
    throw isWritError(failure) ? failure : new WritError('ERR_ISSUER_UNAVAILABLE', { detail: 'no JWKS fetched yet' });
  }

  async #fetch(): Promise<void> {
    this.#fetches++;
    const started = this.#now();
    try {
      const uri = await this.#uri();
      const init = { timeout: this.#timeout, maxBytes: MAX_JWKS_BYTES, signal: this.#signal };
      const { json, headers } = await getJsonObject(uri, init, 'ERR_ISSUER_UNAVAILABLE');
      this.#install(this.#parse(json, uri));
      this.#staleAt = started + this.#age(headers.get('cache-control'));
      this.#lastOk = true;
    } catch (e) {
      this.#failures++;
      this.#lastOk = false;
      this.#staleAt = started + RETRY_AFTER_FAILURE_MS;
      this.#nextMissFetch = Math.min(this.#nextMissFetch, started + RETRY_AFTER_FAILURE_MS);
      throw e;
    }
  }

  /** The usable members of a JWK Set; a set that is not one is `ERR_ISSUER_UNAVAILABLE`. */
  #parse(jwks: Record<string, unknown>, uri: string): Map<string, VerificationKey> {
    if (!Array.isArray(jwks.keys) || jwks.keys.length > MAX_KEYS) {
      throw new WritError('ERR_ISSUER_UNAVAILABLE', { detail: `${uri}: not a JWK Set of at most ${MAX_KEYS} keys` });
    }
    const keys = new Map<string, VerificationKey>();
    const duplicates = new Set<string>();
    jwks.keys.forEach((jwk: unknown, i: number) => {
      let key: VerificationKey;
      try {
        key = jwkVerificationKey(jwk, 'ERR_ISSUER_UNAVAILABLE', `${uri} keys[${i}]`);
      } catch {
        return;
      }
      if (!this.#algorithms.has(key.alg)) return;
      if (keys.has(key.kid)) duplicates.add(key.kid);
      keys.set(key.kid, Object.freeze(key));
    });
    // Two keys under one kid: which one a token means is ambiguous, so neither verifies.
    for (const kid of duplicates) keys.delete(kid);
    return keys;
  }

  #install(keys: Map<string, VerificationKey>): void {
    for (const [kid, old] of this.#keys) {
      const next = keys.get(kid);
      if (next === undefined || next.alg !== old.alg || !next.key.equals(old.key)) {
        this.#revision++;
        break;
      }
    }
    // Unchanged keys keep their identity, so the verifier's per-key caches stay valid.
    for (const [kid, next] of keys) {
      const old = this.#keys.get(kid);
      if (old !== undefined && old.alg === next.alg && old.key.equals(next.key)) keys.set(kid, old);
    }
    this.#keys = keys;
  }

  /** The cache lifetime `Cache-Control` asks for, held within [minAge, maxAge]. */
  #age(cacheControl: string | null): number {
    if (cacheControl === null) return this.#maxAgeMs;
    if (NO_CACHE.test(cacheControl)) return this.#minAgeMs;
    const m = MAX_AGE.exec(cacheControl);
    if (m === null) return this.#maxAgeMs;
    return Math.min(this.#maxAgeMs, Math.max(this.#minAgeMs, Number(m[1]) * 1000));
  }
}
