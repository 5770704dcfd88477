/**
 * Token uses into the ledger. Every use is a `token.used` record, but identical uses (same token, audience,
 * decision, error and request context) within one flush window are folded into one record with a `count`, so a
 * client reusing its token for minutes costs the log a record per second rather than one per request. The pending
 * table is bounded: when it is full of distinct uses, it is appended at once instead of waiting for the window (a
 * burst of distinct uses costs records sooner, never lost ones). A use is dropped, and counted
 * (`writ_usage_events_dropped_total`), only when the ledger refuses it (pushback or failure). A strict caller
 * appends one record and waits for it to be durable instead.
 * @module
 */
import type { TokenUsedRecord } from '@writ/verifier';
import type { Ledger } from '../ledger/ledger.js';
import type { Metrics } from './metrics.js';

/** One use. */
export type Use = Omit<TokenUsedRecord, 'v' | 'type' | 'count'>;

/** Options of {@link UsageLog}. */
export interface UsageLogOptions {
  /** How long uses are folded before they are appended, ms (default 1000). */
  flushMs?: number;
  /** Distinct uses folded at once; a full table is appended before the window ends (default 10,000). */
  maxPending?: number;
}

/** Folds and appends uses for a node. */
export class UsageLog {
  readonly #pending = new Map<string, { use: Use; count: number }>();
  readonly #max: number;
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly ledger: Ledger,
    readonly metrics: Metrics,
    options: UsageLogOptions = {},
  ) {
    this.#max = options.maxPending ?? 10_000;
    this.#timer = setInterval(() => this.flush(), options.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** Records a use; never blocks and never throws (a use the ledger refuses is counted as dropped). */
  record(use: Use): void {
    const key = `${use.jti}\n${use.audience}\n${use.decision}\n${use.error ?? ''}\n${use.context_hash ?? ''}`;
    const hit = this.#pending.get(key);
    if (hit) {
      hit.count++;
      return;
    }
    if (this.#pending.size >= this.#max) this.flush();
    this.#pending.set(key, { use, count: 1 });
  }

  /** Appends one use and resolves with its index once durable (strict mode). */
  async recordDurable(use: Use): Promise<number> {
    return (await this.ledger.append({ v: 1, type: 'token.used', ...use })).index;
  }

  /** Appends everything pending (without waiting for durability). */
  flush(): void {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    for (const { use, count } of batch) {
      const record: TokenUsedRecord = { v: 1, type: 'token.used', ...use, ...(count > 1 ? { count } : {}) };
      this.ledger.append(record).catch(() => this.metrics.usageDropped.inc(count));
    }
  }

  /** Appends what is pending and stops the timer (the ledger's close then writes it). */
  close(): void {
    clearInterval(this.#timer);
    this.flush();
  }
}
