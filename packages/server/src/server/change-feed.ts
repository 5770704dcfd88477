/**
 * Follows the change feed: applies every change, in sequence order and exactly once, to this node (revocation set,
 * key ring, client cache) and passes it on to local subscribers (the SSE revocation stream). New changes are found
 * by PostgreSQL LISTEN/NOTIFY when there is one (caught up by sequence number after every reconnect, so none is
 * missed) and by polling otherwise (SQLite: a CLI command or another process on the same file).
 * @module
 */
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Change, ChangeKind, ChangeStore } from '../store/changes.js';
import { CHANGES_CHANNEL } from '../store/postgres/changes.js';

/** Options of {@link ChangeFeed}. */
export interface ChangeFeedOptions {
  store: ChangeStore;
  /** Applies one change to this node (called in sequence order, once per change). */
  apply: (change: Change) => void | Promise<void>;
  /** PostgreSQL URL to LISTEN on; without it the feed polls. */
  listenUrl?: string;
  /** Poll interval in ms (default 100 without LISTEN, 2000 as a safety net with it). */
  pollMs?: number;
  /** Reports a failure to read the feed (it keeps retrying). */
  onError?: (e: unknown) => void;
}

const PAGE = 1000;

/** A node's view of the change feed. Emits `change` for every change applied. */
export class ChangeFeed extends EventEmitter<{ change: [Change] }> {
  #last = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #listener: pg.Client | undefined;
  #closed = false;
  #lastHeard = Date.now();
  readonly #options: ChangeFeedOptions;

  constructor(options: ChangeFeedOptions) {
    super();
    this.setMaxListeners(0);
    this.#options = options;
  }

  /** Highest sequence number applied. */
  get lastSeq(): number {
    return this.#last;
  }

  /** When the feed was last read successfully (ms). */
  get lastHeard(): number {
    return this.#lastHeard;
  }

  /**
   * Starts following from `from` (the caller loaded the state up to it, e.g. every active revocation), then
   * listens or polls.
   */
  async start(from: number): Promise<void> {
    this.#last = from;
    if (this.#options.listenUrl) await this.#listen();
    const pollMs = this.#options.pollMs ?? (this.#options.listenUrl ? 2000 : 100);
    this.#timer = setInterval(() => void this.catchUp(), pollMs);
    this.#timer.unref();
    await this.catchUp();
  }

  /** Appends changes and applies them here before resolving (so the caller's own node is current at once). */
  async publish(changes: Array<{ kind: ChangeKind; data: Record<string, unknown> }>): Promise<Change[]> {
    const appended = await this.#options.store.append(changes, Date.now());
    await this.catchUp();
    return appended;
  }

  /** Reads and applies every change after the last one applied. Concurrent calls coalesce. */
  catchUp(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          for (;;) {
            const page = await this.#options.store.since(this.#last, PAGE);
            this.#lastHeard = Date.now();
            for (const c of page) {
              if (c.seq <= this.#last) continue;
              await this.#options.apply(c);
              this.#last = c.seq;
              this.emit('change', c);
            }
            if (page.length < PAGE) break;
          }
        } while (this.#again && !this.#closed);
      } catch (e) {
        this.#options.onError?.(e);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #listen(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({ connectionString: this.#options.listenUrl, application_name: 'writ-listen' });
    const retry = (e: unknown) => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      this.#options.onError?.(e);
      client.end().catch(() => {});
      setTimeout(() => void this.#listen().catch((err) => this.#options.onError?.(err)), 500).unref();
    };
    client.on('error', retry);
    client.on('end', () => retry(new Error('LISTEN connection closed')));
    client.on('notification', () => void this.catchUp());
    this.#listener = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (e) {
      retry(e);
      return;
    }
    // Anything committed while we were not listening is found by sequence number.
    await this.catchUp();
  }

  /** Stops listening and polling. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const l = this.#listener;
    this.#listener = undefined;
    await l?.end().catch(() => {});
    await this.#running;
  }
}
