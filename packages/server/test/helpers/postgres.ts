/**
 * PostgreSQL for tests: the real server at WRIT_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test), each test
 * run in a fresh schema. Without a reachable server the tests skip with a message saying why, unless
 * WRIT_REQUIRE_POSTGRES=1 (set by .ci/run), in which case they fail.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgPool, quoteIdent } from '../../src/store/postgres/db.js';

export const PG_URL = process.env.WRIT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | undefined> | undefined;

/** Undefined when PostgreSQL is usable, else the reason to skip (or throws when WRIT_REQUIRE_POSTGRES=1). */
export function postgresSkipReason(): Promise<string | undefined> {
  reachable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return undefined;
    } catch (e) {
      const why = `PostgreSQL tests skipped: no server at ${PG_URL} (${(e as Error).message}); set WRIT_TEST_PG_URL`;
      if (process.env.WRIT_REQUIRE_POSTGRES === '1') throw new Error(why);
      console.warn(`# ${why}`);
      return why;
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return reachable;
}

/** A fresh schema name for one test. */
export function freshSchema(prefix = 'writ_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Creates a pool on a fresh schema; `drop()` removes the schema and ends the pool. */
export async function pgPoolForTest(
  schema = freshSchema(),
): Promise<{ pool: pg.Pool; schema: string; drop(): Promise<void> }> {
  const pool = await createPgPool(PG_URL, { schema, max: 8 });
  return {
    pool,
    schema,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}
