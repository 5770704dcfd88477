/**
 * Decoding a stored ledger entry strictly: UTF-8, strict JSON (no duplicate members), exactly the members of its
 * type, and canonical, so each record has exactly one accepted encoding.
 * @module
 */
import { canonicalBytes } from '../canonical.js';
import { utf8Decode } from '../encoding.js';
import { WritError } from '../errors.js';
import { parseStrictJson } from '../json.js';
import { validateRecord } from './schema.js';
import type { LedgerRecord } from './types.js';

/** Decodes a record's bytes. Throws `ERR_RECORD_INVALID`. */
export function decodeRecord(bytes: Uint8Array): LedgerRecord {
  let value: unknown;
  try {
    value = parseStrictJson(utf8Decode(bytes, 'ERR_RECORD_INVALID'), { malformed: 'ERR_RECORD_INVALID', maxDepth: 4 });
  } catch (cause) {
    throw new WritError('ERR_RECORD_INVALID', { cause, detail: 'not strict JSON' });
  }
  const record = validateRecord(value);
  if (!canonicalBytes(record, 'ERR_RECORD_INVALID').equals(bytes)) {
    throw new WritError('ERR_RECORD_INVALID', { detail: 'not in canonical form' });
  }
  return record;
}
