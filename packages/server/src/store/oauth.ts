/**
 * The OAuth component's stores as one bundle, opened (and migrated) on either backend.
 * @module
 */
import type pg from 'pg';
import type { ChangeStore, SettingsStore } from './changes.js';
import type { ClientStore } from './clients.js';
import { PgChangeStore, PgSettingsStore } from './postgres/changes.js';
import { PgClientStore } from './postgres/clients.js';
import { migratePg } from './postgres/db.js';
import { OAUTH_MIGRATIONS_PG } from './postgres/oauth-schema.js';
import { PgTokenStore } from './postgres/tokens.js';
import { SqliteChangeStore, SqliteSettingsStore } from './sqlite/changes.js';
import { SqliteClientStore } from './sqlite/clients.js';
import { migrateSqlite, type SqliteDb } from './sqlite/db.js';
import { OAUTH_MIGRATIONS_SQLITE } from './sqlite/oauth-schema.js';
import { SqliteTokenStore } from './sqlite/tokens.js';
import type { TokenStore } from './tokens.js';

/** Every store the OAuth service needs. */
export interface OAuthStores {
  clients: ClientStore;
  tokens: TokenStore;
  changes: ChangeStore;
  settings: SettingsStore;
}

/** Opens the OAuth stores on a SQLite database, migrating its schema. */
export function openSqliteOAuthStores(db: SqliteDb): OAuthStores {
  migrateSqlite(db, 'oauth', OAUTH_MIGRATIONS_SQLITE);
  return {
    clients: new SqliteClientStore(db),
    tokens: new SqliteTokenStore(db),
    changes: new SqliteChangeStore(db),
    settings: new SqliteSettingsStore(db),
  };
}

/** Opens the OAuth stores on PostgreSQL, migrating its schema. */
export async function openPgOAuthStores(pool: pg.Pool): Promise<OAuthStores> {
  await migratePg(pool, 'oauth', OAUTH_MIGRATIONS_PG);
  return {
    clients: new PgClientStore(pool),
    tokens: new PgTokenStore(pool),
    changes: new PgChangeStore(pool),
    settings: new PgSettingsStore(pool),
  };
}
