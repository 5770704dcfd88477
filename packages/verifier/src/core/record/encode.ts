/**
 * Encoding a ledger record: validated, then RFC 8785 canonical JSON, so the same record always has the same bytes
 * and the same leaf hash.
 * @module
 */
import { canonicalBytes } from '../canonical.js';
import { WritError } from '../errors.js';
import { validateRecord } from './schema.js';
import type { LedgerRecord } from './types.js';

/** Largest encoded record: C2SP tlog-tiles entry bundles prefix each entry with a uint16 length. */
export const MAX_RECORD_BYTES = 65535;

/** The canonical bytes of a record. Throws `ERR_RECORD_INVALID` for a record that is not exactly of its type. */
export function encodeRecord(record: LedgerRecord): Buffer {
  validateRecord(record);
  const bytes = canonicalBytes(record, 'ERR_RECORD_INVALID');
  if (bytes.length > MAX_RECORD_BYTES) throw new WritError('ERR_RECORD_INVALID', { detail: 'record too large' });
  return bytes;
}
