import { oauthTables } from '../oauth-schema.js';

/** SQLite schema of the OAuth component. */
export const OAUTH_MIGRATIONS_SQLITE: readonly string[] = [
  oauthTables({
    small: 'INTEGER',
    big: 'INTEGER',
    bytes: 'BLOB',
    text: 'TEXT',
    bool: 'INTEGER',
    serial: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  }),
];
