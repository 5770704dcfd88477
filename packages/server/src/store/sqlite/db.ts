/**
 * Opening the embedded SQLite database and migrating its schema. Each component (ledger, oauth, ...) owns an
 * ordered list of migration steps; `writ_migrations` records how far each component has got, so components evolve
 * independently and a step never runs twice.
 * @module
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type SqliteDb = Database.Database;

/** Options for {@link openSqlite}. */
export interface OpenSqliteOptions {
  /** Open read-only (auditors, `writ audit verify` on a copy). */
  readonly?: boolean;
  /** How long a writer waits for another process's write lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating if needed) a SQLite database in WAL mode with `synchronous=FULL`: a commit is durable when it
 * returns, which the ledger's write-ahead provenance relies on.
 */
export function openSqlite(path: string, options: OpenSqliteOptions = {}): SqliteDb {
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
  }
  return db;
}

/**
 * Applies the steps of `component` that have not run yet, each in its own immediate transaction, so two processes
 * opening the same fresh database cannot both run a step.
 */
export function migrateSqlite(db: SqliteDb, component: string, steps: readonly string[]): void {
  db.exec('CREATE TABLE IF NOT EXISTS writ_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const get = db.prepare<[string], { version: number }>('SELECT version FROM writ_migrations WHERE component = ?');
  const set = db.prepare(
    'INSERT INTO writ_migrations (component, version) VALUES (?, ?) ' +
      'ON CONFLICT (component) DO UPDATE SET version = excluded.version',
  );
  for (let i = 0; i < steps.length; i++) {
    db.transaction(() => {
      const done = get.get(component)?.version ?? 0;
      if (done > i) return;
      db.exec(steps[i]!);
      set.run(component, i + 1);
    }).immediate();
  }
}
