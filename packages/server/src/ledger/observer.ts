/**
 * Metrics hooks of the ledger: a small observer the server wires to prom-client. Every method is optional and is
 * called synchronously on the hot path, so it must be cheap and must not throw.
 * @module
 */
export interface LedgerObserver {
  /** One append was acknowledged (durable), `ms` after `append` was called. */
  append?(ms: number): void;
  /** A batch of `entries` was committed in `ms`; the tree then had `treeSize` entries. */
  batch?(entries: number, ms: number, treeSize: number): void;
  /** A checkpoint of `size` entries was signed and stored. */
  checkpoint?(size: number): void;
}
