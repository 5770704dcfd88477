/**
 * The provenance ledger: the API the server (and the CLI) use. It appends typed records with group commit
 * (resolving once they are durable), serves entries, proofs, checkpoints and tiles, pseudonymises subjects with
 * crypto-shredding, and reports its health. Construct it with {@link Ledger.open} over the stores of either
 * backend (`openSqliteLedgerStores`, `openPgLedgerStores`); several processes may open the same database.
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  type Checkpoint,
  consistencyProof,
  encodeRecord,
  inclusionProof,
  isValidKeyName,
  type LedgerRecord,
  type NoteVerifier,
  openCheckpoint,
  parseVerifierKey,
  type Secret,
  WritError,
} from '@writ/verifier';
import type { LedgerStores } from '../store/ledger.js';
import type { LogEntry } from '../store/ledger-log.js';
import { Checkpointer } from './checkpointer.js';
import { logKey } from './log-key.js';
import type { LedgerObserver } from './observer.js';
import { Pseudonyms } from './pseudonyms.js';
import { Sequencer } from './sequencer.js';
import { TileReader } from './tiles.js';

/** Options of {@link Ledger.open}. Limits have defaults sized for one 2-core machine. */
export interface LedgerOptions {
  /** The ledger's stores (SQLite or PostgreSQL). */
  stores: LedgerStores;
  /** The log secret (not the token root): the checkpoint key is derived from it. */
  logSecret: Secret;
  /** The log's origin, e.g. `writ.example/ledger`: required to create a ledger; if given later it must match. */
  origin?: string;
  /** The pseudonymisation key (from the key schedule). */
  pseudonymKey: KeyObject | Uint8Array;
  /** Sign a checkpoint at least this often while the tree grows (default 5000 ms). */
  checkpointIntervalMs?: number;
  /** ... and as soon as this many entries have come since the last one (default 10,000). */
  checkpointEvery?: number;
  /** Appends queued before pushback (default 10,000) ... */
  maxQueue?: number;
  /** ... and their bytes (default 16 MiB). */
  maxQueueBytes?: number;
  /** Entries per transaction (default 2,000). */
  maxBatch?: number;
  /** Largest page {@link Ledger.entries} returns (default 1,000). */
  maxPage?: number;
  /** `Retry-After` of a pushback, in seconds (default 1). */
  retryAfterSeconds?: number;
  /** How often a failed store is probed (default 1000 ms). */
  probeIntervalMs?: number;
  /** Metrics hooks. */
  observer?: LedgerObserver;
}

/** What `/readyz` needs: whether appends can be written, why not, and how fresh the checkpoint is. */
export interface LedgerHealth {
  readonly writable: boolean;
  readonly lastError: string | undefined;
  readonly queued: number;
  readonly checkpointSize: number | undefined;
  readonly checkpointAgeMs: number | undefined;
}

/** A checkpoint as served at `/checkpoint`, with its parsed content. */
export interface SignedCheckpoint {
  readonly note: string;
  readonly checkpoint: Checkpoint;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) throw new WritError('ERR_CONFIG_INVALID', { detail: `${name} must be > 0` });
  return v;
}

export class Ledger {
  /** The log's origin (checkpoint first line and key name). */
  readonly origin: string;
  /** The log's note verifier key, `<origin>+<key ID>+<public key>`, to publish for auditors. */
  readonly verifierKey: string;
  readonly #stores: LedgerStores;
  readonly #sequencer: Sequencer;
  readonly #checkpointer: Checkpointer;
  readonly #pseudonyms: Pseudonyms;
  readonly #tiles: TileReader;
  readonly #maxPage: number;
  readonly #verifier: NoteVerifier;
  /** The largest committed size seen; sizes only grow, so a proof up to it needs no read. */
  #knownSize = 0;

  private constructor(
    origin: string,
    verifierKey: string,
    stores: LedgerStores,
    parts: { sequencer: Sequencer; checkpointer: Checkpointer; pseudonyms: Pseudonyms; maxPage: number },
  ) {
    this.origin = origin;
    this.verifierKey = verifierKey;
    this.#verifier = parseVerifierKey(verifierKey);
    this.#stores = stores;
    this.#sequencer = parts.sequencer;
    this.#checkpointer = parts.checkpointer;
    this.#pseudonyms = parts.pseudonyms;
    this.#tiles = new TileReader(stores.log);
    this.#maxPage = parts.maxPage;
  }

  /**
   * Opens the ledger, creating it with `origin` if the stores hold none. The stored origin wins afterwards; the log
   * secret must be the one the ledger was created with (`ERR_CONFIG_INVALID` otherwise).
   */
  static async open(options: LedgerOptions): Promise<Ledger> {
    const { stores } = options;
    let meta = await stores.log.readMeta();
    if (!meta) {
      if (!options.origin || !isValidKeyName(options.origin)) {
        throw new WritError('ERR_CONFIG_INVALID', { detail: 'a new ledger needs an origin without spaces or +' });
      }
      const { verifierKey } = logKey(options.logSecret, options.origin);
      meta = await stores.log.init({ origin: options.origin, verifierKey, createdAt: Date.now() });
    }
    if (options.origin !== undefined && options.origin !== meta.origin) {
      throw new WritError('ERR_CONFIG_INVALID', { detail: `the ledger's origin is ${meta.origin}` });
    }
    const { signer, verifierKey } = logKey(options.logSecret, meta.origin);
    if (verifierKey !== meta.verifierKey) {
      throw new WritError('ERR_CONFIG_INVALID', {
        detail: 'the log secret is not the one this ledger was created with',
      });
    }
    const checkpointer = new Checkpointer({
      log: stores.log,
      checkpoints: stores.checkpoints,
      origin: meta.origin,
      signer,
      intervalMs: positive('checkpointIntervalMs', options.checkpointIntervalMs, 5000),
      every: positive('checkpointEvery', options.checkpointEvery, 10_000),
      observer: options.observer,
    });
    const sequencer = new Sequencer(stores.log, {
      maxQueue: positive('maxQueue', options.maxQueue, 10_000),
      maxQueueBytes: positive('maxQueueBytes', options.maxQueueBytes, 16 * 1024 * 1024),
      maxBatch: positive('maxBatch', options.maxBatch, 2000),
      retryAfterSeconds: positive('retryAfterSeconds', options.retryAfterSeconds, 1),
      probeIntervalMs: positive('probeIntervalMs', options.probeIntervalMs, 1000),
      observer: options.observer,
      onBatch: (size, root) => checkpointer.afterBatch(size, root),
    });
    const pseudonyms = new Pseudonyms(stores.subjectKeys, options.pseudonymKey);
    await checkpointer.start();
    return new Ledger(meta.origin, verifierKey, stores, {
      sequencer,
      checkpointer,
      pseudonyms,
      maxPage: positive('maxPage', options.maxPage, 1000),
    });
  }

  /**
   * Appends a record; resolves with its index once it is durable. Rejects with `ERR_RECORD_INVALID` (bad record),
   * `ERR_LEDGER_PUSHBACK` (queue full; `retryAfter` set), `ERR_LEDGER_UNAVAILABLE` (store failing) or
   * `ERR_SHUTTING_DOWN`.
   */
  append(record: LedgerRecord): Promise<{ index: number }> {
    let entry: Buffer;
    try {
      entry = encodeRecord(record);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#sequencer.append(entry);
  }

  /** The number of entries committed (by any process). */
  async size(): Promise<number> {
    this.#knownSize = Math.max(this.#knownSize, (await this.#stores.log.readTree()).size);
    return this.#knownSize;
  }

  /** Entries `[start, end)` with their exact leaf bytes, at most `maxPage` of them, cut at the tree size. */
  async entries(start: number, end: number): Promise<LogEntry[]> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
      throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: `bad range [${start}, ${end})` });
    }
    const stop = Math.min(end, start + this.#maxPage, await this.size());
    return stop > start ? this.#stores.log.readEntries(start, stop) : [];
  }

  async #checkSize(size: number): Promise<void> {
    if (size > this.#knownSize && size > (await this.size())) {
      throw new WritError('ERR_LEDGER_RANGE_INVALID', { detail: `size ${size} is beyond the tree` });
    }
  }

  /** The RFC 9162 inclusion proof of entry `index` in the tree of `size` entries. */
  async inclusionProof(index: number, size: number): Promise<Buffer[]> {
    await this.#checkSize(size);
    return inclusionProof(index, size, this.#tiles);
  }

  /** The RFC 9162 consistency proof from the tree of `first` entries to the tree of `second` entries. */
  async consistencyProof(first: number, second: number): Promise<Buffer[]> {
    await this.#checkSize(second);
    return consistencyProof(first, second, this.#tiles);
  }

  /** The latest signed checkpoint (verified against this log's key before it is returned). */
  async latestCheckpoint(): Promise<SignedCheckpoint> {
    const stored = await this.#stores.checkpoints.latest();
    if (!stored) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'no checkpoint yet' });
    const { checkpoint } = openCheckpoint(stored.note, this.#verifier);
    return { note: stored.note, checkpoint };
  }

  /** Signs a checkpoint of the committed tree now, if it has grown since the latest one. */
  checkpoint(): Promise<void> {
    return this.#checkpointer.checkpoint();
  }

  /** tlog-tiles `tile/<level>/<index>[.p/<width>]`: the tile's first `width` hashes. */
  tile(level: number, index: number, width?: number): Promise<Buffer> {
    return this.#tiles.tile(level, index, width);
  }

  /** tlog-tiles `tile/entries/<index>[.p/<width>]`: the entry bundle. */
  entryBundle(index: number, width?: number): Promise<Buffer> {
    return this.#tiles.entryBundle(index, width);
  }

  /** The pseudonym to write in records for `subject` (stable until the subject is erased). */
  pseudonymise(subject: string): Promise<string> {
    return this.#pseudonyms.pseudonymise(subject);
  }

  /** Crypto-shreds `subject`: its entries stay (the tree still verifies) but can no longer be linked to it. */
  eraseSubject(subject: string): Promise<boolean> {
    return this.#pseudonyms.erase(subject);
  }

  /** For `/readyz`: writable or not, the last error, queue depth, and the latest checkpoint's size and age. */
  health(): LedgerHealth {
    const s = this.#sequencer.health();
    const c = this.#checkpointer.status();
    return {
      writable: s.writable,
      lastError: s.lastError ?? c.lastError,
      queued: s.queued,
      checkpointSize: c.size,
      checkpointAgeMs: c.createdAt === undefined ? undefined : Date.now() - c.createdAt,
    };
  }

  /** Resolves when every append made so far is written (or has failed). */
  flush(): Promise<void> {
    return this.#sequencer.flush();
  }

  /**
   * Graceful shutdown: refuses new appends, writes the queued ones, signs a final checkpoint and stops the timers.
   * The caller closes the database afterwards.
   */
  async close(): Promise<void> {
    await this.#sequencer.close();
    this.#checkpointer.stop();
    await this.#checkpointer.checkpoint();
  }
}
