/**
 * The checkpointer: signs a C2SP checkpoint of the tree every `intervalMs` when the tree has grown, and at once when
 * it has grown by `every` entries, and stores it. Several processes may run one on the same log: they sign the same
 * tree with the same key, so the checkpoints they store for a size are identical.
 * @module
 */
import { MerkleFrontier, type NoteSigner, signCheckpoint } from '@writ/verifier';
import type { CheckpointStore } from '../store/checkpoints.js';
import type { LogStore } from '../store/ledger-log.js';
import type { LedgerObserver } from './observer.js';

/** What a {@link Checkpointer} needs. */
export interface CheckpointerOptions {
  readonly log: LogStore;
  readonly checkpoints: CheckpointStore;
  readonly origin: string;
  readonly signer: NoteSigner;
  readonly intervalMs: number;
  readonly every: number;
  readonly observer?: LedgerObserver;
}

export class Checkpointer {
  readonly #o: CheckpointerOptions;
  #timer: NodeJS.Timeout | undefined;
  #latest: { size: number; createdAt: number } | undefined;
  #signing: Promise<void> = Promise.resolve();
  #lastError: string | undefined;

  constructor(options: CheckpointerOptions) {
    this.#o = options;
  }

  /** Loads the latest stored checkpoint, signs one if the tree has none for its size, and starts the timer. */
  async start(): Promise<void> {
    const latest = await this.#o.checkpoints.latest();
    if (latest) this.#latest = { size: latest.size, createdAt: latest.createdAt };
    await this.checkpoint();
    this.#timer = setInterval(() => {
      this.checkpoint().catch(() => {}); // recorded in lastError
    }, this.#o.intervalMs).unref();
  }

  /** Signs a checkpoint of the committed tree if it is larger than the latest one. */
  async checkpoint(): Promise<void> {
    const tree = await this.#o.log.readTree();
    await this.#sign(tree.size, () => MerkleFrontier.fromBytes(tree.size, tree.frontier).root());
  }

  /** A batch was committed: checkpoint now if `every` entries have come since the latest checkpoint. */
  afterBatch(size: number, root: Buffer): void {
    if (size - (this.#latest?.size ?? 0) >= this.#o.every) this.#sign(size, () => root).catch(() => {});
  }

  /** Size and signing time of the latest checkpoint this process knows, and the last signing error. */
  status(): { size: number | undefined; createdAt: number | undefined; lastError: string | undefined } {
    return { size: this.#latest?.size, createdAt: this.#latest?.createdAt, lastError: this.#lastError };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Signs one at a time, so checkpoints are stored in size order. */
  #sign(size: number, root: () => Buffer): Promise<void> {
    const next = this.#signing.then(async () => {
      if (this.#latest && this.#latest.size >= size) return;
      const createdAt = Date.now();
      const note = signCheckpoint({ origin: this.#o.origin, size, root: root(), extensions: [] }, this.#o.signer);
      try {
        await this.#o.checkpoints.add({ size, note, createdAt });
      } catch (e) {
        this.#lastError = e instanceof Error ? e.message : String(e);
        throw e;
      }
      this.#lastError = undefined;
      this.#latest = { size, createdAt };
      this.#o.observer?.checkpoint?.(size);
    });
    this.#signing = next.catch(() => {});
    return next;
  }
}
