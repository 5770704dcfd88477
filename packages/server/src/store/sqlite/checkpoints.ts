/** {@link CheckpointStore} on SQLite. */
import type { CheckpointStore, StoredCheckpoint } from '../checkpoints.js';
import type { SqliteDb } from './db.js';

interface Row {
  size: number;
  note: string;
  created_at: number;
}

const fromRow = (r: Row): StoredCheckpoint => ({ size: r.size, note: r.note, createdAt: r.created_at });

export class SqliteCheckpointStore implements CheckpointStore {
  readonly #add;
  readonly #latest;
  readonly #list;

  constructor(db: SqliteDb) {
    this.#add = db.prepare(
      'INSERT INTO ledger_checkpoints (size, note, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#latest = db.prepare<[], Row>('SELECT * FROM ledger_checkpoints ORDER BY size DESC LIMIT 1');
    this.#list = db.prepare<[number, number], Row>(
      'SELECT * FROM ledger_checkpoints WHERE size > ? ORDER BY size LIMIT ?',
    );
  }

  async add(cp: StoredCheckpoint): Promise<void> {
    this.#add.run(cp.size, cp.note, cp.createdAt);
  }

  async latest(): Promise<StoredCheckpoint | undefined> {
    const r = this.#latest.get();
    return r && fromRow(r);
  }

  async list(afterSize: number, limit: number): Promise<StoredCheckpoint[]> {
    return this.#list.all(afterSize, limit).map(fromRow);
  }
}
