/**
 * {@link LogStore} on SQLite. A batch is one `BEGIN IMMEDIATE` transaction (the write lock is the sequencer lock;
 * another process waits up to the busy timeout) committed with `synchronous=FULL`, so it is durable when
 * `sequence` resolves. Reads cast to BLOB, so a value tampered into TEXT still reaches the audit as its bytes.
 * @module
 */
import { HASH_SIZE, WritError } from '@writ/verifier';
import type { LogBatch, LogEntry, LogMeta, LogStore, StoredTree, TileKey } from '../ledger-log.js';
import type { SqliteDb } from './db.js';

interface MetaRow {
  origin: string;
  verifier_key: string;
  created_at: number;
}

const EMPTY = Buffer.alloc(0);

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

  constructor(db: SqliteDb) {
    this.#db = db;
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
    return this.#sequence.immediate(integrate) as T;
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
