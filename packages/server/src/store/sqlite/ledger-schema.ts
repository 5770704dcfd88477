/**
 * SQLite schema of the ledger component. Entries are rows keyed by their index; tree hashes are C2SP tlog-tiles
 * (up to 8 KiB each, partial tiles grown in place); `ledger_tree` is the one row the sequencer reads and updates in
 * every batch; subject keys live in their own table so that deleting one leaves the log untouched.
 */
export const LEDGER_MIGRATIONS_SQLITE: readonly string[] = [
  `CREATE TABLE ledger_meta (
     id INTEGER PRIMARY KEY CHECK (id = 1), origin TEXT NOT NULL, verifier_key TEXT NOT NULL,
     created_at INTEGER NOT NULL);
   CREATE TABLE ledger_tree (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL, frontier BLOB NOT NULL);
   CREATE TABLE ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
   CREATE TABLE ledger_tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,
     PRIMARY KEY (level, idx));
   CREATE TABLE ledger_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE ledger_subject_keys (lookup BLOB PRIMARY KEY, key BLOB NOT NULL, created_at INTEGER NOT NULL);`,
];
