import { type Change, type ChangeKind, type ChangeStore, changeExpiry, type SettingsStore } from '../changes.js';
import type { SqliteDb } from './db.js';

interface ChangeRow {
  seq: number;
  kind: string;
  data: string;
  created_at: number;
}

function fromRow(r: ChangeRow): Change {
  return { seq: r.seq, kind: r.kind as ChangeKind, data: JSON.parse(r.data), createdAt: r.created_at };
}

/** {@link ChangeStore} on SQLite. Other processes on the same file see new changes by polling `since`. */
export class SqliteChangeStore implements ChangeStore {
  readonly #insert;
  readonly #since;
  readonly #latest;
  readonly #active;
  readonly #between;

  constructor(readonly db: SqliteDb) {
    this.#between = db.prepare<[number, number, number, number], ChangeRow>(
      "SELECT * FROM changes WHERE kind = 'revocation' AND seq > ? AND seq <= ? AND expires_at >= ? ORDER BY seq LIMIT ?",
    );
    this.#insert = db.prepare<[string, string, number, number | null], ChangeRow>(
      'INSERT INTO changes (kind, data, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING *',
    );
    this.#since = db.prepare<[number, number], ChangeRow>('SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?');
    this.#latest = db.prepare<[], { seq: number | null }>('SELECT MAX(seq) AS seq FROM changes');
    this.#active = db.prepare<[number], ChangeRow>(
      "SELECT * FROM changes WHERE kind = 'revocation' AND expires_at >= ? ORDER BY seq",
    );
  }

  async append(changes: Array<{ kind: ChangeKind; data: Record<string, unknown> }>, now: number): Promise<Change[]> {
    return this.db
      .transaction(() =>
        changes.map((c) =>
          fromRow(this.#insert.get(c.kind, JSON.stringify(c.data), now, changeExpiry(c.kind, c.data)) as ChangeRow),
        ),
      )
      .immediate();
  }

  async since(after: number, limit: number): Promise<Change[]> {
    return this.#since.all(after, limit).map(fromRow);
  }

  async latestSeq(): Promise<number> {
    return this.#latest.get()?.seq ?? 0;
  }

  async activeRevocations(now: number): Promise<Change[]> {
    return this.#active.all(now).map(fromRow);
  }

  async revocationsBetween(after: number, upTo: number, now: number, limit: number): Promise<Change[]> {
    return this.#between.all(after, upTo, now, limit).map(fromRow);
  }
}

/** {@link SettingsStore} on SQLite. */
export class SqliteSettingsStore implements SettingsStore {
  readonly #get;
  readonly #set;
  readonly #insert;

  constructor(readonly db: SqliteDb) {
    this.#insert = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
    this.#get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
    this.#set = db.prepare(
      'INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  async get<T>(key: string): Promise<T | undefined> {
    const r = this.#get.get(key);
    return r ? (JSON.parse(r.value) as T) : undefined;
  }

  async set(key: string, value: unknown): Promise<void> {
    this.#set.run(key, JSON.stringify(value));
  }

  async setIfAbsent(key: string, value: unknown): Promise<boolean> {
    return this.#insert.run(key, JSON.stringify(value)).changes === 1;
  }
}
