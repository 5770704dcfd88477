/**
 * The revocation feed (`docs/verifier-protocol.md`, "Revocations"): a {@link RevocationSet} kept current from the
 * issuer, and the core `Verifier`'s `isRevoked` hook over it.
 *
 * - Live: `GET /revocations/stream` (Server-Sent Events), resumed from the last sequence number applied
 *   (`Last-Event-ID`). A stream silent for longer than `idleTimeout` is dropped and reopened.
 * - Catch-up and fallback: `GET /revocations?since=N` after every stream that ends or fails, so a verifier behind a
 *   proxy that breaks streaming still stays current by polling; with `stream: false`, polling only.
 * - Reconnects back off exponentially with jitter, never beyond the poll interval.
 * - Freshness: the set is fresh while the feed was caught up (a heartbeat, or a poll that reached `latest`) within
 *   `maxStaleness`. A stale set fails closed (`ERR_REVOCATION_UNAVAILABLE`, 503), or open if configured, until
 *   the feed is back and caught up.
 * @module
 */
import { checkOptionNames, clockOption, configError, intOption } from '../core/_options.js';
import { toWritError, WritError } from '../core/errors.js';
import type { AccessTokenClaims } from '../core/jwt/claims.js';
import type { TokenKeyInfo } from '../core/jwt/verify.js';
import { bodyChunks, issuerRequest, jsonObject, sleep, type UrlSource, urlSourceOption } from './_http.js';
import { readSse } from './_sse.js';
import type { TokenSource } from './client-credentials.js';
import { parseRevocation, type Revocation, RevocationSet } from './revocation-set.js';

/** Options of {@link RevocationFeed}. */
export interface RevocationFeedOptions {
  /** `GET /revocations` (`writ_revocations_endpoint`). */
  pollEndpoint: UrlSource;
  /** `GET /revocations/stream` (`writ_revocations_stream_endpoint`); `false` polls only. */
  streamEndpoint: UrlSource | false;
  /** The bearer token (scope `writ:verifier`) presented to both. */
  tokens: TokenSource;
  /** Seconds without news from a caught-up feed after which the set counts as stale (default 30). */
  maxStaleness?: number;
  /** Verify from a stale set instead of failing closed (default false: fail closed). */
  failOpen?: boolean;
  /** Seconds between polls when polling, and the longest reconnect back-off (default maxStaleness / 3, at most 10). */
  pollInterval?: number;
  /** Seconds a stream may stay silent before it is dropped and reopened (default maxStaleness / 2, at most 15). */
  idleTimeout?: number;
  /** Milliseconds for one poll (default 5,000); a stream is bounded by `idleTimeout` instead. */
  timeout?: number;
  /** Most revocations held (default 1,000,000). */
  maxEntries?: number;
  /** Seconds a revocation is kept past its `expires_at`: the verifier's clock tolerance (default 60). */
  clockTolerance?: number;
  /** Told about every failure of the feed (for logs); never throws into the feed. */
  onError?: (error: WritError) => void;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** The state of a {@link RevocationFeed}, for metrics and health checks. */
export interface RevocationFeedStats {
  /** Whether verification may rely on the set now. */
  readonly fresh: boolean;
  /** Whether a stream is open. */
  readonly streaming: boolean;
  /** The highest sequence number the set is known to be complete up to. */
  readonly seq: number;
  /** Revocations held. */
  readonly size: number;
  /** When the feed was last heard while caught up (ms), 0 if never. */
  readonly lastHeard: number;
  /** Revocations applied since start. */
  readonly applied: number;
  /** Streams opened. */
  readonly connects: number;
  /** Polls completed. */
  readonly polls: number;
  /** Failures (streams and polls). */
  readonly failures: number;
}

const OPTION_NAMES = [
  'pollEndpoint',
  'streamEndpoint',
  'tokens',
  'maxStaleness',
  'failOpen',
  'pollInterval',
  'idleTimeout',
  'timeout',
  'maxEntries',
  'clockTolerance',
  'onError',
  'now',
];
const PAGE = 1000;
const MAX_PAGES_PER_POLL = 100;
const MAX_PAGE_BYTES = 4 * 1024 * 1024;
const MAX_EVENT_BYTES = 64 * 1024;
const FIRST_RETRY_MS = 250;
const SWEEP_MS = 60_000;

function unavailable(detail: string, cause?: unknown): WritError {
  return new WritError('ERR_REVOCATION_UNAVAILABLE', { detail, cause });
}

/** A revocation set fed by the issuer. Construct, then {@link RevocationFeed.start}; {@link RevocationFeed.close} stops it. */
export class RevocationFeed {
  readonly #pollEndpoint: () => Promise<string>;
  readonly #streamEndpoint: (() => Promise<string>) | undefined;
  readonly #tokens: TokenSource;
  readonly #maxStalenessMs: number;
  readonly #failOpen: boolean;
  readonly #pollIntervalMs: number;
  readonly #idleMs: number;
  readonly #timeout: number;
  readonly #onError: (error: WritError) => void;
  readonly #now: () => number;
  readonly #set: RevocationSet;
  readonly #closing = new AbortController();
  #running: Promise<void> | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  #seq = 0;
  #lastHeard = 0;
  #streaming = false;
  #applied = 0;
  #connects = 0;
  #polls = 0;
  #failures = 0;
  #ready: { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void };

  constructor(options: RevocationFeedOptions) {
    checkOptionNames('RevocationFeed', options, OPTION_NAMES);
    this.#pollEndpoint = urlSourceOption('revocations.pollEndpoint', options.pollEndpoint);
    this.#streamEndpoint =
      options.streamEndpoint === false
        ? undefined
        : urlSourceOption('revocations.streamEndpoint', options.streamEndpoint);
    if (typeof options.tokens?.getToken !== 'function')
      throw configError('revocations.tokens', 'must be a TokenSource');
    this.#tokens = options.tokens;
    const maxStaleness = intOption('revocations.maxStaleness', options.maxStaleness, 30, 1, 86_400);
    this.#maxStalenessMs = maxStaleness * 1000;
    if (options.failOpen !== undefined && typeof options.failOpen !== 'boolean') {
      throw configError('revocations.failOpen', 'must be a boolean');
    }
    this.#failOpen = options.failOpen ?? false;
    const seconds = (name: string, v: unknown, fallback: number) =>
      v === undefined ? fallback : intOption(`revocations.${name}`, v, undefined, 1, maxStaleness) * 1000;
    this.#pollIntervalMs = seconds('pollInterval', options.pollInterval, Math.min(10_000, this.#maxStalenessMs / 3));
    this.#idleMs = seconds('idleTimeout', options.idleTimeout, Math.min(15_000, this.#maxStalenessMs / 2));
    this.#timeout = intOption('revocations.timeout', options.timeout, 5000, 1, 120_000);
    this.#set = new RevocationSet({ maxEntries: options.maxEntries, clockTolerance: options.clockTolerance });
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw configError('revocations.onError', 'must be a function');
    }
    this.#onError = options.onError ?? (() => {});
    this.#now = clockOption('revocations.now', options.now);
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    this.#ready = { promise, resolve, reject };
  }

  /** Starts following the issuer (idempotent). */
  start(): void {
    if (this.#running !== undefined || this.#closing.signal.aborted) return;
    this.#running = this.#run();
    this.#sweeper = setInterval(() => this.#set.sweep(this.#now()), SWEEP_MS);
    this.#sweeper.unref();
  }

  /** Resolves once the feed has caught up for the first time; rejects if the feed is closed before. */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** Stops the feed: the stream is closed, no request is left in flight. */
  async close(): Promise<void> {
    this.#closing.abort();
    clearInterval(this.#sweeper);
    this.#ready.reject(new WritError('ERR_SHUTTING_DOWN'));
    await this.#running;
  }

  /** Whether verification may rely on the set now: caught up within `maxStaleness`, and complete. */
  get fresh(): boolean {
    return this.#lastHeard > 0 && this.#now() - this.#lastHeard <= this.#maxStalenessMs && !this.#set.overflowed;
  }

  /** The feed's state. */
  get stats(): RevocationFeedStats {
    return {
      fresh: this.fresh,
      streaming: this.#streaming,
      seq: this.#seq,
      size: this.#set.size,
      lastHeard: this.#lastHeard,
      applied: this.#applied,
      connects: this.#connects,
      polls: this.#polls,
      failures: this.#failures,
    };
  }

  /**
   * The core `Verifier`'s `isRevoked` hook: true when a revocation covers the token. When the set is stale it
   * throws `ERR_REVOCATION_UNAVAILABLE` (or, with `failOpen`, answers from what it holds).
   */
  readonly isRevoked = (claims: AccessTokenClaims, key: TokenKeyInfo): boolean => {
    if (!this.fresh && !this.#failOpen) {
      throw new WritError('ERR_REVOCATION_UNAVAILABLE', {
        retryAfter: 1,
        detail: this.#set.overflowed ? 'revocation set is full' : 'revocation feed is stale',
      });
    }
    return this.#set.has(claims, key.kid);
  };

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    let failures = 0;
    while (!signal.aborted) {
      let healthy = false;
      if (this.#streamEndpoint !== undefined) healthy = await this.#stream(this.#streamEndpoint);
      if (signal.aborted) break;
      try {
        await this.#poll();
        if (this.#streamEndpoint === undefined) healthy = true;
      } catch (e) {
        this.#fail(e);
      }
      failures = healthy ? 0 : failures + 1;
      await sleep(this.#delay(failures), signal);
    }
  }

  /** Polling: the poll interval. Streaming: a short pause after a healthy stream, then exponential back-off. */
  #delay(failures: number): number {
    if (this.#streamEndpoint === undefined) return this.#pollIntervalMs * (0.9 + Math.random() * 0.2);
    const cap = Math.min(this.#pollIntervalMs, FIRST_RETRY_MS * 2 ** Math.min(failures, 20));
    return cap / 2 + (Math.random() * cap) / 2;
  }

  #fail(e: unknown): void {
    if (this.#closing.signal.aborted) return;
    this.#failures++;
    const error = toWritError(e);
    try {
      this.#onError(error.code === 'ERR_INTERNAL' ? unavailable(error.detail ?? 'feed failure', e) : error);
    } catch {
      // A failing error handler must not stop the feed.
    }
  }

  /**
   * The feed is caught up to `latest`: every revocation in force up to it has been applied. An issuer whose
   * `latest` went backwards (its sequence was reset) is reported, and followed from there: re-applying is harmless.
   */
  #caughtUp(latest: number): void {
    if (latest < this.#seq) this.#fail(unavailable(`issuer's latest ${latest} is behind ${this.#seq}`));
    this.#seq = latest;
    this.#lastHeard = this.#now();
    this.#ready.resolve();
  }

  #apply(r: Revocation): void {
    if (r.seq <= this.#seq) return;
    if (!this.#set.apply(r, this.#now())) throw unavailable(`revocation set is full; seq ${r.seq} not held`);
    this.#seq = r.seq;
    this.#applied++;
  }

  async #authorization(): Promise<string> {
    return `Bearer ${await this.#tokens.getToken()}`;
  }

  /** Follows the stream until it ends or fails; true when it caught up (it was a healthy stream). */
  async #stream(endpoint: () => Promise<string>): Promise<boolean> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    this.#closing.signal.addEventListener('abort', abort, { once: true });
    let silent = false;
    const idle = setTimeout(() => {
      silent = true;
      controller.abort();
    }, this.#idleMs);
    idle.unref();
    let synced = false;
    try {
      const url = await endpoint();
      const headers: Record<string, string> = {
        accept: 'text/event-stream',
        'cache-control': 'no-cache',
        authorization: await this.#authorization(),
      };
      if (this.#seq > 0) headers['last-event-id'] = String(this.#seq);
      const res = await fetch(url, { headers, signal: controller.signal, redirect: 'error' });
      if (res.status === 401) this.#tokens.invalidate?.();
      const type = res.headers.get('content-type') ?? '';
      if (res.status !== 200 || !type.toLowerCase().startsWith('text/event-stream') || res.body === null) {
        await res.body?.cancel();
        throw unavailable(`${url}: HTTP ${res.status} ${type}`);
      }
      this.#connects++;
      this.#streaming = true;
      idle.refresh();
      for await (const event of readSse(bodyChunks(res.body, controller.signal), MAX_EVENT_BYTES)) {
        idle.refresh();
        if (event.event === 'revocation') {
          this.#apply(parseRevocation(jsonObject(event.data, 'ERR_REVOCATION_UNAVAILABLE', 'revocation event')));
          // On a caught-up stream every event is news from a live feed.
          if (synced) this.#lastHeard = this.#now();
        } else if (event.event === 'heartbeat') {
          const latest = jsonObject(event.data, 'ERR_REVOCATION_UNAVAILABLE', 'heartbeat').latest;
          if (!Number.isSafeInteger(latest) || (latest as number) < 0) throw unavailable('heartbeat without latest');
          this.#caughtUp(latest as number);
          synced = true;
        }
      }
      throw unavailable(`${url}: stream ended`);
    } catch (e) {
      this.#fail(silent ? unavailable(`stream silent for ${this.#idleMs} ms`, e) : e);
      return synced;
    } finally {
      clearTimeout(idle);
      controller.abort();
      this.#streaming = false;
      this.#closing.signal.removeEventListener('abort', abort);
    }
  }

  /** Pages through `GET /revocations?since=N` until it reaches the issuer's `latest`. */
  async #poll(): Promise<void> {
    const base = await this.#pollEndpoint();
    for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
      const url = new URL(base);
      url.searchParams.set('since', String(this.#seq));
      url.searchParams.set('limit', String(PAGE));
      const res = await issuerRequest(
        url.href,
        {
          headers: { accept: 'application/json', authorization: await this.#authorization() },
          timeout: this.#timeout,
          maxBytes: MAX_PAGE_BYTES,
          signal: this.#closing.signal,
        },
        'ERR_REVOCATION_UNAVAILABLE',
      );
      if (res.status === 401) this.#tokens.invalidate?.();
      if (res.status !== 200) throw unavailable(`${url.href}: HTTP ${res.status}`);
      const body = jsonObject(res.text, 'ERR_REVOCATION_UNAVAILABLE', url.href);
      const { revocations, latest } = body;
      if (!Array.isArray(revocations) || !Number.isSafeInteger(latest)) throw unavailable(`${url.href}: malformed`);
      for (const r of revocations) this.#apply(parseRevocation(r));
      if (revocations.length < PAGE) {
        this.#polls++;
        this.#caughtUp(latest as number);
        return;
      }
    }
    throw unavailable(`more than ${MAX_PAGES_PER_POLL * PAGE} revocations behind`);
  }
}
