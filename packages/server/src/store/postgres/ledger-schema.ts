import { ledgerTables } from '../ledger-schema.js';

/**
 * PostgreSQL migrations of the ledger component. Tiles are stored out of line without compression: hashes do not
 * compress, and a partial tile is rewritten by every batch.
 */
export const LEDGER_MIGRATIONS_PG: readonly string[] = [
  `${ledgerTables({ small: 'smallint', big: 'bigint', bytes: 'bytea', text: 'text' })}
   ALTER TABLE ledger_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;`,
];
