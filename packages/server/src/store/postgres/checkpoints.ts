/** {@link CheckpointStore} on PostgreSQL. */
import type pg from 'pg';
import type { CheckpointStore, StoredCheckpoint } from '../checkpoints.js';

interface Row {
  size: string;
  note: string;
  created_at: string;
}

const fromRow = (r: Row): StoredCheckpoint => ({ size: Number(r.size), note: r.note, createdAt: Number(r.created_at) });

export class PgCheckpointStore implements CheckpointStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async add(cp: StoredCheckpoint): Promise<void> {
    await this.#pool.query('INSERT INTO ledger_checkpoints VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      cp.size,
      cp.note,
      cp.createdAt,
    ]);
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    const r = await this.#pool.query<Row>('SELECT * FROM ledger_checkpoints ORDER BY size DESC LIMIT 1');
    return r.rows[0] && fromRow(r.rows[0]);
  }

  async list(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    const r = await this.#pool.query<Row>('SELECT * FROM ledger_checkpoints WHERE size > $1 ORDER BY size LIMIT $2', [
      afterSize,
      limit,
    ]);
    return r.rows.map(fromRow);
  }
}
