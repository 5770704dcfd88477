import { ledgerTables } from '../ledger-schema.js';

/** SQLite migrations of the ledger component. `INTEGER PRIMARY KEY` makes an entry's index its rowid. */
export const LEDGER_MIGRATIONS_SQLITE: readonly string[] = [
  ledgerTables({ small: 'INTEGER', big: 'INTEGER', bytes: 'BLOB', text: 'TEXT' }),
];
