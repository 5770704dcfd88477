/**
 * Storage contract of the ledger's log: entries, tree tiles and the tree state, written together by one sequencing
 * transaction per batch. Any process may call {@link LogStore.sequence}: the backend serialises them with a lock
 * held for the transaction (SQLite `BEGIN IMMEDIATE`, PostgreSQL `pg_advisory_xact_lock`), so the lock of a
 * process that dies goes with its transaction.
 * @module
 */

/** The log's identity, fixed when the log is created. */
export interface LogMeta {
  /** The checkpoint origin and name of the log key, e.g. `writ.example/ledger`. */
  readonly origin: string;
  /** The log's note verifier key (public; a mismatch at open means the wrong log secret). */
  readonly verifierKey: string;
  /** Unix milliseconds. */
  readonly createdAt: number;
}

/** The tree as stored: its size and right frontier (concatenated perfect subtree roots, largest first). */
export interface StoredTree {
  readonly size: number;
  readonly frontier: Buffer;
}

/** Hashes appended at the end of one tile: `offset` hashes were there before (partial tiles grow in place). */
export interface TileAppend {
  readonly level: number;
  readonly index: number;
  readonly offset: number;
  readonly hashes: Buffer;
}

/** What one sequencing transaction writes: the entries at `[tree.size, tree.size + entries.length)`. */
export interface LogBatch {
  readonly entries: readonly Buffer[];
  readonly tiles: readonly TileAppend[];
  /** The tree after the batch. */
  readonly tree: StoredTree;
}

/** One stored entry. */
export interface LogEntry {
  readonly index: number;
  readonly data: Buffer;
}

/** A tile to read: C2SP tlog-tiles level and index. */
export interface TileKey {
  readonly level: number;
  readonly index: number;
}

/** The log's storage. */
export interface LogStore {
  /** Creates the log with `meta` and an empty tree unless it exists; returns the stored identity either way. */
  init(meta: LogMeta): Promise<LogMeta>;
  /** The stored identity, if the log exists. */
  readMeta(): Promise<LogMeta | undefined>;
  /**
   * One sequencing transaction: takes the sequencer lock, reads the stored tree, calls `integrate` with it
   * (synchronously, inside the transaction), writes the batch it returns and commits. Resolves with `integrate`'s
   * result only once the commit is durable; on any error nothing is written.
   */
  sequence<T>(integrate: (tree: StoredTree) => { batch: LogBatch; result: T }): Promise<T>;
  /** The committed tree. */
  readTree(): Promise<StoredTree>;
  /** The stored entries in `[start, end)`, ascending; a missing index is simply absent. */
  readEntries(start: number, end: number): Promise<LogEntry[]>;
  /** The stored tiles, in the order asked (undefined where absent). */
  readTiles(keys: readonly TileKey[]): Promise<Array<Buffer | undefined>>;
  /** Takes and releases the sequencer lock without writing: resolves when the log is writable. */
  probe(): Promise<void>;
}
