/**
 * Storage contract of the ledger's signed checkpoints (C2SP tlog-checkpoint notes), one per tree size.
 * @module
 */

/** A stored checkpoint. */
export interface StoredCheckpoint {
  readonly size: number;
  /** The signed note text. */
  readonly note: string;
  /** Unix milliseconds when it was signed. */
  readonly createdAt: number;
}

/** Checkpoint storage. */
export interface CheckpointStore {
  /** Stores a checkpoint; one already stored for the same size is kept (it commits to the same tree). */
  add(checkpoint: StoredCheckpoint): Promise<void>;
  /** The checkpoint of the largest size. */
  latest(): Promise<StoredCheckpoint | undefined>;
  /** Up to `limit` checkpoints with a size above `afterSize`, ascending by size. */
  list(afterSize: number, limit: number): Promise<StoredCheckpoint[]>;
}
