/**
 * The sequencer: group commit. Appends queue up; one transaction at a time writes a batch of them and integrates it
 * into the tree (one fsync for the batch), then acknowledges each with its index. The queue is bounded in entries
 * and bytes; a full queue answers `ERR_LEDGER_PUSHBACK` at once. When a batch fails, every queued append fails with
 * `ERR_LEDGER_UNAVAILABLE`, and so does every new one (the audit trail fails closed) until a background probe finds
 * the store writable again.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { isWritError, WritError } from '@writ/verifier';
import type { LogStore } from '../store/ledger-log.js';
import { integrate } from './integrate.js';
import type { LedgerObserver } from './observer.js';

/** Limits and hooks of a {@link Sequencer}. */
export interface SequencerOptions {
  readonly maxQueue: number;
  readonly maxQueueBytes: number;
  readonly maxBatch: number;
  readonly retryAfterSeconds: number;
  readonly probeIntervalMs: number;
  readonly observer?: LedgerObserver;
  /** Called after each committed batch with the new tree size and root (the checkpointer listens). */
  readonly onBatch?: (size: number, root: Buffer) => void;
}

interface Pending {
  readonly entry: Buffer;
  readonly start: number;
  readonly resolve: (ack: { index: number }) => void;
  readonly reject: (e: WritError) => void;
}

export class Sequencer {
  readonly #log: LogStore;
  readonly #o: SequencerOptions;
  #queue: Pending[] = [];
  #queuedBytes = 0;
  #draining: Promise<void> | undefined;
  #closed = false;
  #lastError: string | undefined;
  #probe: NodeJS.Timeout | undefined;

  constructor(log: LogStore, options: SequencerOptions) {
    this.#log = log;
    this.#o = options;
  }

  /** Queues an entry; resolves with its index once it is durable. */
  append(entry: Buffer): Promise<{ index: number }> {
    if (this.#closed) return Promise.reject(new WritError('ERR_SHUTTING_DOWN'));
    if (this.#probe) return Promise.reject(new WritError('ERR_LEDGER_UNAVAILABLE', { detail: this.#lastError }));
    if (this.#queue.length >= this.#o.maxQueue || this.#queuedBytes + entry.length > this.#o.maxQueueBytes) {
      return Promise.reject(new WritError('ERR_LEDGER_PUSHBACK', { retryAfter: this.#o.retryAfterSeconds }));
    }
    return new Promise<{ index: number }>((resolve, reject) => {
      this.#queue.push({ entry, start: this.#o.observer?.append ? performance.now() : 0, resolve, reject });
      this.#queuedBytes += entry.length;
      this.#schedule();
    });
  }

  /** Resolves when every append queued so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Refuses new appends, writes the queued ones and stops probing. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    clearInterval(this.#probe);
  }

  /** Writable (not failing), the last store error, and the queue depth. */
  health(): { writable: boolean; lastError: string | undefined; queued: number } {
    return { writable: this.#probe === undefined, lastError: this.#lastError, queued: this.#queue.length };
  }

  #schedule(): void {
    if (this.#draining) return;
    // Wait one turn of the event loop so that every append made in this turn joins the batch.
    this.#draining = new Promise<void>((r) => setImmediate(r))
      .then(() => this.#drain())
      .finally(() => {
        this.#draining = undefined;
        if (this.#queue.length > 0) this.#schedule();
      });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.length <= this.#o.maxBatch ? this.#queue : this.#queue.slice(0, this.#o.maxBatch);
      this.#queue = batch === this.#queue ? [] : this.#queue.slice(batch.length);
      const started = performance.now();
      try {
        const done = await this.#log.sequence((tree) => {
          const { batch: write, root } = integrate(
            tree,
            batch.map((p) => p.entry),
          );
          return { batch: write, result: { first: tree.size, size: write.tree.size, root } };
        });
        const now = performance.now();
        for (let i = 0; i < batch.length; i++) {
          const p = batch[i]!;
          this.#queuedBytes -= p.entry.length;
          this.#o.observer?.append?.(now - p.start);
          p.resolve({ index: done.first + i });
        }
        this.#o.observer?.batch?.(batch.length, now - started, done.size);
        this.#o.onBatch?.(done.size, done.root);
      } catch (e) {
        this.#fail(e, batch);
      }
    }
  }

  #fail(e: unknown, batch: Pending[]): void {
    const detail = e instanceof Error ? e.message : String(e);
    const err = isWritError(e, 'ERR_LEDGER_CORRUPT')
      ? e
      : new WritError('ERR_LEDGER_UNAVAILABLE', { cause: e, detail });
    const failed = batch.concat(this.#queue);
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const p of failed) p.reject(err);
    this.#lastError = detail;
    this.#probe ??= setInterval(() => {
      this.#log.probe().then(
        () => {
          clearInterval(this.#probe);
          this.#probe = undefined;
        },
        (pe: unknown) => {
          this.#lastError = pe instanceof Error ? pe.message : String(pe);
        },
      );
    }, this.#o.probeIntervalMs).unref();
  }
}
