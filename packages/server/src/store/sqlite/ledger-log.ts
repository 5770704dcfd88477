/**
 * {@link LogStore} on SQLite. A batch is one `BEGIN IMMEDIATE` transaction (the write lock is the sequencer lock;
 * another process waits up to the busy timeout). In WAL mode it is committed with `synchronous=NORMAL` (the WAL
 * frames are written, not yet synced) and then made durable by an `fdatasync` of the `-wal` file on the libuv thread
 * pool, so the event loop never waits for the disk and the sequencer can commit the next batch meanwhile
 * ({@link SqliteLogStore.commit}); `sequence` resolves only after that sync. Every other write on the connection keeps
 * the connection's setting (`synchronous=FULL`). A checkpoint of the WAL into the database file syncs both files, so a batch is durable once the
 * sync that follows its commit returns, wherever its frames are by then. Without WAL (`:memory:`), commits are
 * `synchronous=FULL`. Reads cast to BLOB, so a value tampered into TEXT still reaches the audit as its bytes.
 * @module
 */
import { close, fdatasync, open } from 'node:fs';
import { HASH_SIZE, WritError } from '@writ/verifier';
import type { Commit, LogBatch, LogEntry, LogMeta, LogStore, StoredTree, TileKey } from '../ledger-log.js';
import type { SqliteDb } from './db.js';

interface MetaRow {
  origin: string;
  verifier_key: string;
  created_at: number;
}

const EMPTY = Buffer.alloc(0);
const DURABLE: () => Promise<void> = () => Promise.resolve();

/** `fdatasync` of the file at `path` on the thread pool (opened for the call: the WAL may be reset meanwhile). */
function syncFile(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (oe, fd) => {
      if (oe) return reject(oe);
      fdatasync(fd, (se) => close(fd, (ce) => (se || ce ? reject(se ?? ce) : resolve())));
    });
  });
}

function metaOf(r: MetaRow): LogMeta {
  return { origin: r.origin, verifierKey: r.verifier_key, createdAt: r.created_at };
}

export class SqliteLogStore implements LogStore {
  readonly #db: SqliteDb;
  readonly #getMeta;
  readonly #insertMeta;
  readonly #insertTree;
  readonly #getTree;
  readonly #insertEntries;
  readonly #putTile;
  readonly #updateTree;
  readonly #entries;
  readonly #tile;
  readonly #sequence;
  /** The `-wal` file to sync after a commit, when the database is in WAL mode. */
  readonly #wal: string | undefined;
  readonly #strict: string;

  constructor(db: SqliteDb) {
    this.#db = db;
    const wal = !db.memory && !db.readonly && db.pragma('journal_mode', { simple: true }) === 'wal';
    this.#wal = wal ? `${db.name}-wal` : undefined;
    // PRAGMA takes effect when prepared, so these run as `exec`: NORMAL for a ledger commit, then back to the
    // connection's own setting (FULL, from openSqlite).
    this.#strict = `PRAGMA synchronous = ${Number(db.pragma('synchronous', { simple: true }))}`;
    this.#getMeta = db.prepare<[], MetaRow>('SELECT origin, verifier_key, created_at FROM ledger_meta WHERE id = 1');
    this.#insertMeta = db.prepare(
      'INSERT INTO ledger_meta (id, origin, verifier_key, created_at) VALUES (1, ?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#insertTree = db.prepare("INSERT INTO ledger_tree VALUES (1, 0, x'') ON CONFLICT DO NOTHING");
    this.#getTree = db.prepare<[], StoredTree>(
      'SELECT size, CAST(frontier AS BLOB) AS frontier FROM ledger_tree WHERE id = 1',
    );
    // Multi-row inserts of 64, 16, 4 and 1 rows: far fewer statement runs per batch than one row at a time.
    this.#insertEntries = [64, 16, 4, 1].map((rows) => ({
      rows,
      stmt: db.prepare(`INSERT INTO ledger_entries (idx, data) VALUES ${Array(rows).fill('(?, ?)').join(', ')}`),
      args: new Array<number | Buffer>(2 * rows),
    }));
    this.#putTile = db.prepare(
      'INSERT INTO ledger_tiles (level, idx, hashes) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET hashes = excluded.hashes',
    );
    this.#updateTree = db.prepare('UPDATE ledger_tree SET size = ?, frontier = ? WHERE id = 1 AND size = ?');
    this.#entries = db
      .prepare<[number, number], [number, Buffer]>(
        'SELECT idx, CAST(data AS BLOB) FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx',
      )
      .raw();
    this.#tile = db
      .prepare<[number, number], Buffer>('SELECT CAST(hashes AS BLOB) FROM ledger_tiles WHERE level = ? AND idx = ?')
      .pluck();
    this.#sequence = db.transaction((integrate: (tree: StoredTree) => { batch: LogBatch; result: unknown }) => {
      const tree = this.#getTree.get();
      if (!tree) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'the ledger is not initialised' });
      const { batch, result } = integrate(tree);
      this.#insert(tree.size, batch.entries);
      for (const t of batch.tiles) {
        // Partial tiles grow in place: the stored hashes must be exactly the `offset` the batch extends.
        const stored = this.#tile.get(t.level, t.index) ?? EMPTY;
        if (stored.length !== t.offset * HASH_SIZE) {
          throw new WritError('ERR_LEDGER_CORRUPT', { detail: `tile ${t.level}/${t.index} has an unexpected width` });
        }
        this.#putTile.run(t.level, t.index, Buffer.concat([stored, t.hashes]));
      }
      if (this.#updateTree.run(batch.tree.size, batch.tree.frontier, tree.size).changes !== 1) {
        throw new WritError('ERR_LEDGER_CORRUPT', { detail: 'the tree moved during a batch' });
      }
      return result;
    });
  }

  /** Inserts `entries` at indices from `first`, in as few statements as the prepared sizes allow. */
  #insert(first: number, entries: readonly Buffer[]): void {
    let at = 0;
    for (const { rows, stmt, args } of this.#insertEntries) {
      for (; entries.length - at >= rows; at += rows) {
        for (let k = 0; k < rows; k++) {
          args[2 * k] = first + at + k;
          args[2 * k + 1] = entries[at + k]!;
        }
        stmt.run(args);
      }
    }
  }

  async init(meta: LogMeta): Promise<LogMeta> {
    this.#db
      .transaction(() => {
        this.#insertMeta.run(meta.origin, meta.verifierKey, meta.createdAt);
        this.#insertTree.run();
      })
      .immediate();
    return metaOf(this.#getMeta.get()!);
  }

  async readMeta(): Promise<LogMeta | undefined> {
    const r = this.#getMeta.get();
    return r && metaOf(r);
  }

  async sequence<T>(integrate: (tree: StoredTree) => { batch: LogBatch; result: T }): Promise<T> {
    const c = this.commit(integrate);
    await c.durable();
    return c.result;
  }

  /** Commits the batch now (WAL written, not synced) and returns its result with the sync that makes it durable. */
  commit<T>(integrate: (tree: StoredTree) => { batch: LogBatch; result: T }): Commit<T> {
    const wal = this.#wal;
    if (!wal) return { result: this.#sequence.immediate(integrate) as T, durable: DURABLE };
    this.#db.exec('PRAGMA synchronous = NORMAL');
    try {
      return { result: this.#sequence.immediate(integrate) as T, durable: () => syncFile(wal) };
    } finally {
      this.#db.exec(this.#strict);
    }
  }

  async readTree(): Promise<StoredTree> {
    const tree = this.#getTree.get();
    if (!tree) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'the ledger is not initialised' });
    return tree;
  }

  async readEntries(start: number, end: number): Promise<LogEntry[]> {
    return this.#entries.all(start, end).map(([index, data]) => ({ index, data }));
  }

  async readTiles(keys: readonly TileKey[]): Promise<Array<Buffer | undefined>> {
    return keys.map((k) => this.#tile.get(k.level, k.index));
  }

  async probe(): Promise<void> {
    this.#db.transaction(() => this.#getTree.get()).immediate();
  }
}
