/** {@link SubjectKeyStore} on PostgreSQL. */
import type pg from 'pg';
import type { SubjectKeyStore } from '../subject-keys.js';

const GET = 'SELECT key FROM ledger_subject_keys WHERE lookup = $1';

export class PgSubjectKeyStore implements SubjectKeyStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async getOrCreate(lookup: Buffer, candidate: Buffer): Promise<Buffer> {
    const found = await this.#pool.query<{ key: Buffer }>(GET, [lookup]);
    if (found.rows[0]) return found.rows[0].key;
    await this.#pool.query('INSERT INTO ledger_subject_keys VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
      lookup,
      candidate,
      Date.now(),
    ]);
    // A fresh statement sees a row that a concurrent caller committed first.
    return (await this.#pool.query<{ key: Buffer }>(GET, [lookup])).rows[0]!.key;
  }

  async delete(lookup: Buffer): Promise<boolean> {
    return ((await this.#pool.query('DELETE FROM ledger_subject_keys WHERE lookup = $1', [lookup])).rowCount ?? 0) > 0;
  }
}
