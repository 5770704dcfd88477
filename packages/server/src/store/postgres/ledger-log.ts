/**
 * {@link LogStore} on PostgreSQL. A batch is one transaction that first takes a transaction-scoped advisory lock
 * (keyed by the schema, so two Writ deployments in one database do not contend): exactly one process sequences at
 * a time, and a process that dies loses the lock with its connection. `idle_in_transaction_session_timeout` ends a
 * holder that hangs instead of dying; `lock_timeout` bounds how long a waiter blocks.
 * @module
 */
import { HASH_SIZE, WritError } from '@writ/verifier';
import type pg from 'pg';
import type { LogBatch, LogEntry, LogMeta, LogStore, StoredTree, TileKey } from '../ledger-log.js';

/** Advisory lock class of the ledger sequencer ("wl" for Writ ledger); the schema names the object. */
const LOCK = `pg_advisory_xact_lock(${0x776c}, hashtext(current_schema()))`;
const TIMEOUTS = "SET LOCAL lock_timeout = '5s'; SET LOCAL idle_in_transaction_session_timeout = '10s'";

const BEGIN_BATCH = `BEGIN; ${TIMEOUTS}; SELECT ${LOCK}; SELECT size, frontier FROM ledger_tree WHERE id = 1`;

const WRITE_BATCH = `
  WITH e AS (
    INSERT INTO ledger_entries (idx, data)
    SELECT $1::bigint + ord - 1, data FROM unnest($2::bytea[]) WITH ORDINALITY AS u(data, ord)
    RETURNING 1),
  t AS (
    INSERT INTO ledger_tiles (level, idx, hashes) SELECT * FROM unnest($3::smallint[], $4::bigint[], $5::bytea[])
    ON CONFLICT (level, idx) DO UPDATE SET hashes = ledger_tiles.hashes || excluded.hashes
    RETURNING level, idx, octet_length(hashes) AS len),
  s AS (UPDATE ledger_tree SET size = $6, frontier = $7 WHERE id = 1 AND size = $1 RETURNING 1)
  SELECT (SELECT count(*) FROM e)::int AS entries, (SELECT count(*) FROM s)::int AS tree,
         (SELECT coalesce(json_agg(json_build_array(level, idx, len)), '[]') FROM t) AS tiles`;

/**
 * Checks the byte length of each tile after the batch's upserts: a tile that was not exactly `offset` hashes long
 * before the append (corruption, or a writer that bypassed the lock) aborts the transaction.
 */
function assertTileLengths(batch: LogBatch, lengths: ReadonlyMap<string, number>): void {
  for (const t of batch.tiles) {
    if (lengths.get(`${t.level}/${t.index}`) !== t.offset * HASH_SIZE + t.hashes.length) {
      throw new WritError('ERR_LEDGER_CORRUPT', { detail: `tile ${t.level}/${t.index} has an unexpected width` });
    }
  }
}

interface TreeRow {
  size: string;
  frontier: Buffer;
}

const treeOf = (r: TreeRow): StoredTree => ({ size: Number(r.size), frontier: r.frontier });

export class PgLogStore implements LogStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async init(meta: LogMeta): Promise<LogMeta> {
    await this.#pool.query(
      `WITH m AS (INSERT INTO ledger_meta VALUES (1, $1, $2, $3) ON CONFLICT DO NOTHING),
            t AS (INSERT INTO ledger_tree VALUES (1, 0, '') ON CONFLICT DO NOTHING) SELECT 1`,
      [meta.origin, meta.verifierKey, meta.createdAt],
    );
    return (await this.readMeta())!;
  }

  async readMeta(): Promise<LogMeta | undefined> {
    const r = await this.#pool.query<{ origin: string; verifier_key: string; created_at: string }>(
      'SELECT origin, verifier_key, created_at FROM ledger_meta WHERE id = 1',
    );
    const row = r.rows[0];
    return row && { origin: row.origin, verifierKey: row.verifier_key, createdAt: Number(row.created_at) };
  }

  async sequence<T>(integrate: (tree: StoredTree) => { batch: LogBatch; result: T }): Promise<T> {
    const c = await this.#pool.connect();
    let began = false;
    try {
      const begun = (await c.query(BEGIN_BATCH)) as unknown as pg.QueryResult<TreeRow>[];
      began = true;
      const row = begun[begun.length - 1]!.rows[0];
      if (!row) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'the ledger is not initialised' });
      const tree = treeOf(row);
      const { batch, result } = integrate(tree);
      const t = batch.tiles;
      const r = await c.query<{ entries: number; tree: number; tiles: [number, string, number][] }>(WRITE_BATCH, [
        tree.size,
        batch.entries,
        t.map((x) => x.level),
        t.map((x) => x.index),
        t.map((x) => x.hashes),
        batch.tree.size,
        batch.tree.frontier,
      ]);
      const out = r.rows[0]!;
      if (out.entries !== batch.entries.length || out.tree !== 1) {
        throw new WritError('ERR_LEDGER_CORRUPT', { detail: 'the tree moved during a batch' });
      }
      assertTileLengths(batch, new Map(out.tiles.map(([level, idx, len]) => [`${level}/${idx}`, len])));
      await c.query('COMMIT');
      began = false;
      c.release();
      return result;
    } catch (e) {
      const rolledBack = began
        ? await c.query('ROLLBACK').then(
            () => true,
            () => false,
          )
        : true;
      c.release(rolledBack ? undefined : (e as Error));
      throw e;
    }
  }

  async readTree(): Promise<StoredTree> {
    const r = await this.#pool.query<TreeRow>('SELECT size, frontier FROM ledger_tree WHERE id = 1');
    if (!r.rows[0]) throw new WritError('ERR_LEDGER_UNAVAILABLE', { detail: 'the ledger is not initialised' });
    return treeOf(r.rows[0]);
  }

  async readEntries(start: number, end: number): Promise<LogEntry[]> {
    const r = await this.#pool.query<{ idx: string; data: Buffer }>(
      'SELECT idx, data FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx',
      [start, end],
    );
    return r.rows.map((row) => ({ index: Number(row.idx), data: row.data }));
  }

  async readTiles(keys: readonly TileKey[]): Promise<Array<Buffer | undefined>> {
    if (keys.length === 0) return [];
    const r = await this.#pool.query<{ level: number; idx: string; hashes: Buffer }>(
      `SELECT level, idx, hashes FROM ledger_tiles
       WHERE (level, idx) IN (SELECT * FROM unnest($1::smallint[], $2::bigint[]))`,
      [keys.map((k) => k.level), keys.map((k) => k.index)],
    );
    const byKey = new Map(r.rows.map((row) => [`${row.level}/${row.idx}`, row.hashes]));
    return keys.map((k) => byKey.get(`${k.level}/${k.index}`));
  }

  async probe(): Promise<void> {
    await this.#pool.query(`BEGIN; ${TIMEOUTS}; SELECT ${LOCK}; ROLLBACK`);
  }
}
