/**
 * Usage events (`docs/verifier-protocol.md`, "Usage events"): what the gateway allowed and denied, posted to the
 * issuer's `POST /usage` for the ledger.
 *
 * - Default: {@link UsageReporter.record} never waits. Events go into a bounded queue, posted when a batch is full
 *   or every flush interval, with a bounded number of posts in flight. When the queue is full (the issuer is slow or
 *   down) new events are dropped and counted; a failed post puts its batch back if there is room, and pauses posting
 *   for the issuer's `Retry-After` or a back-off.
 * - Strict: {@link UsageReporter.recordDurable} resolves only once the event is durable in the ledger
 *   (`?durable=1`). Events that arrive while a durable post is in flight go together in the next one (group
 *   commit). Failure rejects with `ERR_LEDGER_PUSHBACK` or `ERR_LEDGER_UNAVAILABLE`: the caller fails closed.
 * @module
 */
import { hash } from 'node:crypto';
import { checkOptionNames, clockOption, configError, intOption } from '../core/_options.js';
import { type ErrorCode, toWritError, WritError } from '../core/errors.js';
import { issuerRequest, jsonObject, retryAfter, type UrlSource, urlSourceOption } from './_http.js';
import type { TokenSource } from './client-credentials.js';

/** One use of a token. */
export interface UsageEvent {
  readonly jti: string;
  /** The audience the token was used at (this gateway's audience it matched). */
  readonly aud: string;
  readonly decision: 'allow' | 'deny';
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** {@link usageContext} of the request. */
  readonly context: string;
  /** Why, for a denial. */
  readonly code?: ErrorCode;
}

/** Options of {@link UsageReporter}. */
export interface UsageReporterOptions {
  /** `POST /usage` (`writ_usage_endpoint`). */
  endpoint: UrlSource;
  /** The bearer token (scope `writ:verifier`) presented. */
  tokens: TokenSource;
  /** Events per post (default 100, at most 1,000). */
  batchSize?: number;
  /** Milliseconds between posts of a batch that is not full (default 1,000). */
  flushInterval?: number;
  /** Events queued at most; more are dropped and counted (default 10,000). Also bounds strict events waiting. */
  maxQueue?: number;
  /** Posts in flight at most (default 2). */
  maxInFlight?: number;
  /** Milliseconds for one post (default 5,000). */
  timeout?: number;
  /** Told about every failed post (for logs). */
  onError?: (error: WritError) => void;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
}

/** Counters of a {@link UsageReporter}, for metrics. */
export interface UsageStats {
  /** Events waiting to be posted. */
  readonly queued: number;
  /** Strict events waiting for durability. */
  readonly waiting: number;
  /** Events the issuer accepted. */
  readonly sent: number;
  /** Events dropped: the queue was full, the issuer refused them, or the reporter was closed. */
  readonly dropped: number;
  /** Posts made. */
  readonly posts: number;
  /** Posts that failed. */
  readonly failedPosts: number;
}

interface Waiter {
  readonly event: UsageEvent;
  readonly resolve: () => void;
  readonly reject: (e: WritError) => void;
}

const OPTION_NAMES = [
  'endpoint',
  'tokens',
  'batchSize',
  'flushInterval',
  'maxQueue',
  'maxInFlight',
  'timeout',
  'onError',
  'now',
];
const MAX_BATCH = 1000;
const MAX_RESPONSE_BYTES = 1024 * 1024;
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/** The request context of a usage event: base64url SHA-256 of `method + ' ' + absolute URL`. */
export function usageContext(method: string, url: string): string {
  return hash('sha256', `${method} ${url}`, 'base64url');
}

/** Contexts are remembered for this many URLs (up to 512 characters) per method, then forgotten at once. */
const CONTEXT_CACHE_ENTRIES = 1024;
const CONTEXT_CACHE_METHODS = 16;
const CONTEXT_CACHE_URL_LENGTH = 512;

/** {@link usageContext}, remembered: an access point sees the same few request lines again and again. Bounded. */
export class UsageContextCache {
  readonly #byMethod = new Map<string, Map<string, string>>();

  /** The context of `method` and absolute `url`. */
  get(method: string, url: string): string {
    if (url.length > CONTEXT_CACHE_URL_LENGTH) return usageContext(method, url);
    let byUrl = this.#byMethod.get(method);
    if (byUrl === undefined) {
      if (this.#byMethod.size >= CONTEXT_CACHE_METHODS) this.#byMethod.clear();
      byUrl = new Map();
      this.#byMethod.set(method, byUrl);
    }
    let context = byUrl.get(url);
    if (context === undefined) {
      if (byUrl.size >= CONTEXT_CACHE_ENTRIES) byUrl.clear();
      context = usageContext(method, url);
      byUrl.set(url, context);
    }
    return context;
  }
}

/** Posts usage events to the issuer. */
export class UsageReporter {
  readonly #endpoint: () => Promise<string>;
  readonly #tokens: TokenSource;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #maxQueue: number;
  readonly #maxInFlight: number;
  readonly #timeout: number;
  readonly #onError: (error: WritError) => void;
  readonly #now: () => number;
  readonly #closing = new AbortController();
  #queue: UsageEvent[] = [];
  #waiting: Waiter[] = [];
  #inFlight = new Set<Promise<void>>();
  #durableInFlight = false;
  #timer: NodeJS.Timeout | undefined;
  #pausedUntil = 0;
  #backoff = 0;
  #sent = 0;
  #dropped = 0;
  #posts = 0;
  #failedPosts = 0;

  constructor(options: UsageReporterOptions) {
    checkOptionNames('UsageReporter', options, OPTION_NAMES);
    this.#endpoint = urlSourceOption('usage.endpoint', options.endpoint);
    if (typeof options.tokens?.getToken !== 'function') throw configError('usage.tokens', 'must be a TokenSource');
    this.#tokens = options.tokens;
    this.#batchSize = intOption('usage.batchSize', options.batchSize, 100, 1, MAX_BATCH);
    this.#flushMs = intOption('usage.flushInterval', options.flushInterval, 1000, 1, 600_000);
    this.#maxQueue = intOption('usage.maxQueue', options.maxQueue, 10_000, 1, 10_000_000);
    this.#maxInFlight = intOption('usage.maxInFlight', options.maxInFlight, 2, 1, 64);
    this.#timeout = intOption('usage.timeout', options.timeout, 5000, 1, 120_000);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw configError('usage.onError', 'must be a function');
    }
    this.#onError = options.onError ?? (() => {});
    this.#now = clockOption('usage.now', options.now);
  }

  /** The reporter's counters. */
  get stats(): UsageStats {
    return {
      queued: this.#queue.length,
      waiting: this.#waiting.length,
      sent: this.#sent,
      dropped: this.#dropped,
      posts: this.#posts,
      failedPosts: this.#failedPosts,
    };
  }

  /** Queues `event` for the next batch, or drops (and counts) it when the queue is full. Never waits. */
  record(event: UsageEvent): void {
    if (this.#queue.length >= this.#maxQueue || this.#closing.signal.aborted) {
      this.#dropped++;
      return;
    }
    this.#queue.push(event);
    if (this.#queue.length >= this.#batchSize) this.#send();
    else this.#schedule(this.#flushMs);
  }

  /**
   * Resolves once `event` is durable in the ledger. Rejects with `ERR_LEDGER_PUSHBACK` when too many events wait
   * or the issuer pushes back, with `ERR_LEDGER_UNAVAILABLE` when the post fails otherwise.
   */
  recordDurable(event: UsageEvent): Promise<void> {
    if (this.#closing.signal.aborted) return Promise.reject(new WritError('ERR_SHUTTING_DOWN'));
    if (this.#waiting.length >= this.#maxQueue) {
      return Promise.reject(new WritError('ERR_LEDGER_PUSHBACK', { retryAfter: 1, detail: 'too many events wait' }));
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ event, resolve, reject });
      this.#sendDurable();
    });
  }

  /** Posts every event queued now (each at most once, within the in-flight bound) and waits for the posts. */
  async flush(): Promise<void> {
    let budget = this.#queue.length;
    while (budget > 0 && this.#queue.length > 0) {
      if (this.#inFlight.size >= this.#maxInFlight) {
        await Promise.race(this.#inFlight);
        continue;
      }
      const batch = this.#queue.splice(0, Math.min(this.#batchSize, budget));
      budget -= batch.length;
      this.#post(batch);
    }
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Sends what is queued (one last try), then stops: strict events not yet posted are refused with
   * `ERR_SHUTTING_DOWN`, and events recorded later are dropped.
   */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#pausedUntil = 0;
    await this.flush();
    this.#closing.abort();
    this.#dropped += this.#queue.length;
    this.#queue = [];
    for (const w of this.#waiting.splice(0)) w.reject(new WritError('ERR_SHUTTING_DOWN'));
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined || this.#closing.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send(true);
    }, ms);
    this.#timer.unref();
  }

  /** Starts posts while there are slots: full batches, or (`partial`) whatever is queued. */
  #send(partial = false): void {
    const now = this.#now();
    if (now < this.#pausedUntil) {
      this.#schedule(this.#pausedUntil - now);
      return;
    }
    while (
      this.#inFlight.size < this.#maxInFlight &&
      (this.#queue.length >= this.#batchSize || (partial && this.#queue.length > 0))
    ) {
      this.#post(this.#queue.splice(0, this.#batchSize));
    }
    if (this.#queue.length > 0) this.#schedule(this.#flushMs);
  }

  #post(events: UsageEvent[]): void {
    const done: Promise<void> = this.#request(events, false).then(
      () => {
        this.#sent += events.length;
        this.#backoff = 0;
      },
      (e: WritError) => {
        // Put the batch back in front if it fits; what does not fit is dropped.
        const room = Math.max(0, this.#maxQueue - this.#queue.length);
        if (e.code === 'ERR_INVALID_REQUEST') {
          this.#dropped += events.length;
        } else {
          this.#dropped += Math.max(0, events.length - room);
          this.#queue = [...events.slice(0, room), ...this.#queue];
        }
        this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff === 0 ? FIRST_BACKOFF_MS : this.#backoff * 2);
        this.#pausedUntil = this.#now() + (e.retryAfter !== undefined ? e.retryAfter * 1000 : this.#backoff);
      },
    );
    const tracked = done.finally(() => {
      this.#inFlight.delete(tracked);
      if (!this.#closing.signal.aborted) this.#send();
    });
    this.#inFlight.add(tracked);
  }

  #sendDurable(): void {
    if (this.#durableInFlight || this.#waiting.length === 0) return;
    this.#durableInFlight = true;
    const batch = this.#waiting.splice(0, MAX_BATCH);
    this.#request(
      batch.map((w) => w.event),
      true,
    )
      .then(
        () => {
          this.#sent += batch.length;
          for (const w of batch) w.resolve();
        },
        (e: WritError) => {
          // Whatever went wrong with the post, the request it holds up meets an unavailable ledger.
          const error =
            e.code === 'ERR_LEDGER_PUSHBACK'
              ? e
              : new WritError('ERR_LEDGER_UNAVAILABLE', { cause: e, detail: e.detail });
          for (const w of batch) w.reject(error);
        },
      )
      .finally(() => {
        this.#durableInFlight = false;
        this.#sendDurable();
      });
  }

  /** One `POST /usage`; any failure is a `WritError` (reported), never a throw of another kind. */
  async #request(events: readonly UsageEvent[], durable: boolean): Promise<void> {
    this.#posts++;
    try {
      const url = new URL(await this.#endpoint());
      if (durable) url.searchParams.set('durable', '1');
      const res = await issuerRequest(
        url.href,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${await this.#tokens.getToken()}`,
          },
          body: JSON.stringify({ events }),
          timeout: this.#timeout,
          maxBytes: MAX_RESPONSE_BYTES,
        },
        'ERR_LEDGER_UNAVAILABLE',
      );
      if (res.status === 401) this.#tokens.invalidate?.();
      if (res.status === 503) {
        throw new WritError('ERR_LEDGER_PUSHBACK', { retryAfter: retryAfter(res.headers) ?? 1, detail: 'HTTP 503' });
      }
      if (res.status === 400 || res.status === 413) {
        throw new WritError('ERR_INVALID_REQUEST', {
          detail: `${url.href}: HTTP ${res.status} ${res.text.slice(0, 200)}`,
        });
      }
      // 202 once queued for the ledger; with ?durable=1, 200 with the entries' indexes once durable.
      if (durable ? res.status !== 200 : res.status !== 202 && res.status !== 200) {
        throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: `${url.href}: HTTP ${res.status}` });
      }
      const body = jsonObject(res.text, 'ERR_LEDGER_UNAVAILABLE', url.href);
      const complete =
        body.accepted === events.length &&
        (!durable || (Array.isArray(body.indexes) && body.indexes.length === events.length));
      if (!complete) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: `${url.href}: not every event accepted` });
    } catch (e) {
      this.#failedPosts++;
      const error = toWritError(e);
      try {
        this.#onError(error);
      } catch {
        // A failing error handler must not lose events.
      }
      throw error.code === 'ERR_INTERNAL' ? new WritError('ERR_LEDGER_UNAVAILABLE', { cause: e }) : error;
    }
  }
}
