/**
 * PostgreSQL schema of the ledger component (same tables as on SQLite). Tiles are stored out of line without
 * compression: hashes do not compress, and a partial tile is rewritten by every batch.
 */
export const LEDGER_MIGRATIONS_PG: readonly string[] = [
  `CREATE TABLE ledger_meta (
     id smallint PRIMARY KEY CHECK (id = 1), origin text NOT NULL, verifier_key text NOT NULL,
     created_at bigint NOT NULL);
   CREATE TABLE ledger_tree (id smallint PRIMARY KEY CHECK (id = 1), size bigint NOT NULL, frontier bytea NOT NULL);
   CREATE TABLE ledger_entries (idx bigint PRIMARY KEY, data bytea NOT NULL);
   CREATE TABLE ledger_tiles (level smallint NOT NULL, idx bigint NOT NULL, hashes bytea NOT NULL,
     PRIMARY KEY (level, idx));
   ALTER TABLE ledger_tiles ALTER COLUMN hashes SET STORAGE EXTERNAL;
   CREATE TABLE ledger_checkpoints (size bigint PRIMARY KEY, note text NOT NULL, created_at bigint NOT NULL);
   CREATE TABLE ledger_subject_keys (lookup bytea PRIMARY KEY, key bytea NOT NULL, created_at bigint NOT NULL);`,
];
