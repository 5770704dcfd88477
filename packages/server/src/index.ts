/**
 * `@writ/server`: the Writ service (store, ledger, HTTP server) and the `writ` CLI.
 * @module
 */
export { WritError } from '@writ/verifier';
export { auditCommand, type CommandIO } from './cli/commands/audit.js';
export {
  type AuditOptions,
  type AuditProblem,
  type AuditProblemKind,
  type AuditReport,
  auditLedger,
} from './ledger/audit.js';
export { Ledger, type LedgerHealth, type LedgerOptions, type SignedCheckpoint } from './ledger/ledger.js';
export { LOG_KEY_LABEL, logKey } from './ledger/log-key.js';
export type { LedgerObserver } from './ledger/observer.js';
export type { CheckpointStore, StoredCheckpoint } from './store/checkpoints.js';
export { type LedgerStores, openPgLedgerStores, openSqliteLedgerStores } from './store/ledger.js';
export type { LogBatch, LogEntry, LogMeta, LogStore, StoredTree, TileAppend, TileKey } from './store/ledger-log.js';
export type { SubjectKeyStore } from './store/subject-keys.js';
