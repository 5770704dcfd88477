/**
 * Connecting to PostgreSQL and migrating its schema. Like the SQLite side, each component owns an ordered list of
 * migration steps recorded in `writ_migrations`; an advisory lock makes concurrent migrations from several nodes
 * safe.
 * @module
 */
import pg from 'pg';

/** Options for {@link createPgPool}. */
export interface PgPoolOptions {
  /** A schema to use (created if missing); tests give each run its own. Default: the server's `search_path`. */
  schema?: string;
  /** Maximum connections (default 10). */
  max?: number;
  /** Application name shown in `pg_stat_activity`. */
  applicationName?: string;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates a connection pool; with `schema`, every connection uses that schema (created on first use). */
export async function createPgPool(connectionString: string, options: PgPoolOptions = {}): Promise<pg.Pool> {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'writ',
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client's error (server restart, network loss) must not crash the process; the next query reports it.
  pool.on('error', () => {});
  if (options.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}`);
  return pool;
}

// Advisory lock key for migrations (an arbitrary constant: "writ" in ASCII, then 1).
const MIGRATION_LOCK = 0x7772697401;

/** Applies the steps of `component` that have not run yet, under an advisory lock, in one transaction. */
export async function migratePg(pool: pg.Pool, component: string, steps: readonly string[]): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS writ_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    const r = await c.query<{ version: number }>('SELECT version FROM writ_migrations WHERE component = $1', [
      component,
    ]);
    const done = r.rows[0]?.version ?? 0;
    for (let i = done; i < steps.length; i++) await c.query(steps[i]!);
    if (steps.length > done) {
      await c.query(
        'INSERT INTO writ_migrations (component, version) VALUES ($1, $2) ' +
          'ON CONFLICT (component) DO UPDATE SET version = excluded.version',
        [component, steps.length],
      );
    }
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
