import { oauthTables } from '../oauth-schema.js';

/** PostgreSQL schema of the OAuth component. */
export const OAUTH_MIGRATIONS_PG: readonly string[] = [
  oauthTables({
    small: 'smallint',
    big: 'bigint',
    bytes: 'bytea',
    text: 'text',
    bool: 'boolean',
    serial: 'bigserial PRIMARY KEY',
  }),
];
