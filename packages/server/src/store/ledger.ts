/**
 * The ledger component's stores as one bundle, opened (and migrated) on either backend.
 * @module
 */
import type pg from 'pg';
import type { CheckpointStore } from './checkpoints.js';
import type { LogStore } from './ledger-log.js';
import { PgCheckpointStore } from './postgres/checkpoints.js';
import { migratePg } from './postgres/db.js';
import { PgLogStore } from './postgres/ledger-log.js';
import { LEDGER_MIGRATIONS_PG } from './postgres/ledger-schema.js';
import { PgSubjectKeyStore } from './postgres/subject-keys.js';
import { SqliteCheckpointStore } from './sqlite/checkpoints.js';
import { migrateSqlite, type SqliteDb } from './sqlite/db.js';
import { SqliteLogStore } from './sqlite/ledger-log.js';
import { LEDGER_MIGRATIONS_SQLITE } from './sqlite/ledger-schema.js';
import { SqliteSubjectKeyStore } from './sqlite/subject-keys.js';
import type { SubjectKeyStore } from './subject-keys.js';

/** Every store the ledger needs. */
export interface LedgerStores {
  log: LogStore;
  checkpoints: CheckpointStore;
  subjectKeys: SubjectKeyStore;
}

/** Opens the ledger stores on a SQLite database, migrating its schema unless the database is read-only. */
export function openSqliteLedgerStores(db: SqliteDb): LedgerStores {
  if (!db.readonly) migrateSqlite(db, 'ledger', LEDGER_MIGRATIONS_SQLITE);
  return {
    log: new SqliteLogStore(db),
    checkpoints: new SqliteCheckpointStore(db),
    subjectKeys: new SqliteSubjectKeyStore(db),
  };
}

/** Opens the ledger stores on PostgreSQL, migrating its schema unless `migrate` is false (read-only auditors). */
export async function openPgLedgerStores(pool: pg.Pool, options: { migrate?: boolean } = {}): Promise<LedgerStores> {
  if (options.migrate !== false) await migratePg(pool, 'ledger', LEDGER_MIGRATIONS_PG);
  return {
    log: new PgLogStore(pool),
    checkpoints: new PgCheckpointStore(pool),
    subjectKeys: new PgSubjectKeyStore(pool),
  };
}
