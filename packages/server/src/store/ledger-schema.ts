/**
 * The ledger component's tables, written once for both backends with each backend's column types. Entries are rows
 * keyed by their index; tree hashes are C2SP tlog-tiles (up to 8 KiB each, partial tiles grown in place);
 * `ledger_tree` is the one row every batch reads and updates under the sequencer lock; subject keys live in their
 * own table so that deleting one leaves the log untouched.
 * @module
 */

/** Column types of one SQL dialect. */
export interface SqlTypes {
  readonly small: string;
  readonly big: string;
  readonly bytes: string;
  readonly text: string;
}

/** The `CREATE TABLE` statements of the ledger in a dialect. */
export function ledgerTables(t: SqlTypes): string {
  return `CREATE TABLE ledger_meta (
     id ${t.small} PRIMARY KEY CHECK (id = 1), origin ${t.text} NOT NULL, verifier_key ${t.text} NOT NULL,
     created_at ${t.big} NOT NULL);
   CREATE TABLE ledger_tree (id ${t.small} PRIMARY KEY CHECK (id = 1), size ${t.big} NOT NULL, frontier ${t.bytes} NOT NULL);
   CREATE TABLE ledger_entries (idx ${t.big} PRIMARY KEY, data ${t.bytes} NOT NULL);
   CREATE TABLE ledger_tiles (level ${t.small} NOT NULL, idx ${t.big} NOT NULL, hashes ${t.bytes} NOT NULL,
     PRIMARY KEY (level, idx));
   CREATE TABLE ledger_checkpoints (size ${t.big} PRIMARY KEY, note ${t.text} NOT NULL, created_at ${t.big} NOT NULL);
   CREATE TABLE ledger_subject_keys (lookup ${t.bytes} PRIMARY KEY, key ${t.bytes} NOT NULL, created_at ${t.big} NOT NULL);`;
}
