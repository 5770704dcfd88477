/**
 * Storage contract of the per-subject pseudonymisation keys, kept apart from the log so that deleting one
 * (crypto-shredding) makes that subject's ledger entries unlinkable while the log itself stays intact.
 * @module
 */

/** Per-subject random keys, found by a lookup value (an HMAC of the subject). */
export interface SubjectKeyStore {
  /** The key stored under `lookup`, storing `candidate` first when there is none; concurrent callers agree. */
  getOrCreate(lookup: Buffer, candidate: Buffer): Promise<Buffer>;
  /** Deletes the key under `lookup`; true when there was one. */
  delete(lookup: Buffer): Promise<boolean>;
}
