/**
 * The two ledger backends as test fixtures: a fresh database each, reopened through new connections (a restart),
 * reachable from child processes, and open to raw SQL for tamper tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret, type TokenUsedRecord } from '@writ/verifier';
import { type LedgerStores, openPgLedgerStores, openSqliteLedgerStores } from '../../src/store/ledger.js';
import { createPgPool, quoteIdent } from '../../src/store/postgres/db.js';
import { openSqlite } from '../../src/store/sqlite/db.js';
import { freshSchema, PG_URL, postgresSkipReason } from '../helpers/postgres.js';

export const ORIGIN = 'writ.test/ledger';
export const LOG_SECRET = new Secret(Buffer.alloc(32, 0x4c), 'test log secret');
export const PSEUDONYM_KEY = Buffer.alloc(32, 0x50);

/** A small, valid record; `i` makes it unique. */
export function usedRecord(i: number, tag = 't'): TokenUsedRecord {
  return {
    v: 1,
    type: 'token.used',
    time: 1_700_000_000_000 + i,
    jti: `${tag}-${i}`,
    audience: 'https://api.example',
    decision: 'allow',
  };
}

/** An open connection to a test database. */
export interface Connection {
  readonly stores: LedgerStores;
  close(): Promise<void>;
}

/** One fresh database of a backend. */
export interface TestDb {
  /** Opens a new connection (a new pool or SQLite handle): closing and opening again is a restart. */
  open(): Promise<Connection>;
  /** Runs SQL statements directly (tampering, backups). */
  sql(statements: string): Promise<void>;
  /** Arguments that let `child.js` open the same database. */
  readonly childArgs: readonly string[];
  /** The `writ audit verify` options that select this database. */
  readonly cliArgs: readonly string[];
  drop(): Promise<void>;
}

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** An SQL expression: blob `column` with the byte at `offset` (0-based) replaced by `value`. */
  setByte(column: string, offset: number, value: number): string;
  /** Undefined when usable, else why the tests skip. */
  skip(): Promise<string | undefined>;
  create(): Promise<TestDb>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  setByte: (c, o, v) =>
    `CAST(substr(${c}, 1, ${o}) || x'${v.toString(16).padStart(2, '0')}' || substr(${c}, ${o + 2}) AS BLOB)`,
  skip: async () => undefined,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'writ-ledger-'));
    const file = join(dir, 'writ.sqlite');
    const childArgs = ['sqlite', file];
    return {
      open: () => openFromArgs(childArgs),
      async sql(statements) {
        const db = openSqlite(file);
        try {
          db.exec(statements);
        } finally {
          db.close();
        }
      },
      childArgs,
      cliArgs: ['--data', dir],
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

export const pgBackend: Backend = {
  name: 'postgres',
  setByte: (c, o, v) => `set_byte(${c}, ${o}, ${v})`,
  skip: postgresSkipReason,
  async create() {
    const schema = freshSchema('writ_ledger');
    const admin = await createPgPool(PG_URL, { schema, max: 2 });
    const childArgs = ['postgres', PG_URL, schema];
    return {
      open: () => openFromArgs(childArgs),
      async sql(statements) {
        await admin.query(statements);
      },
      childArgs,
      cliArgs: ['--database', `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`],
      async drop() {
        await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {});
        await admin.end();
      },
    };
  },
};

/** Opens the stores a child process was told to use (see {@link TestDb.childArgs}). */
export async function openFromArgs(args: readonly string[]): Promise<Connection> {
  if (args[0] === 'sqlite') {
    const db = openSqlite(args[1]!);
    return { stores: openSqliteLedgerStores(db), close: async () => void db.close() };
  }
  const pool = await createPgPool(args[1]!, { schema: args[2]!, max: 4 });
  return { stores: await openPgLedgerStores(pool), close: () => pool.end() };
}
