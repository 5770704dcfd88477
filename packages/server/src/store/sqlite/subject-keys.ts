/** {@link SubjectKeyStore} on SQLite. */
import type { SubjectKeyStore } from '../subject-keys.js';
import type { SqliteDb } from './db.js';

export class SqliteSubjectKeyStore implements SubjectKeyStore {
  readonly #insert;
  readonly #get;
  readonly #delete;

  constructor(db: SqliteDb) {
    this.#insert = db.prepare(
      'INSERT INTO ledger_subject_keys (lookup, key, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#get = db.prepare<[Buffer], Buffer>('SELECT key FROM ledger_subject_keys WHERE lookup = ?').pluck();
    this.#delete = db.prepare('DELETE FROM ledger_subject_keys WHERE lookup = ?');
  }

  async getOrCreate(lookup: Buffer, candidate: Buffer): Promise<Buffer> {
    const found = this.#get.get(lookup);
    if (found) return found;
    this.#insert.run(lookup, candidate, Date.now());
    return this.#get.get(lookup)!;
  }

  async delete(lookup: Buffer): Promise<boolean> {
    return this.#delete.run(lookup).changes > 0;
  }
}
