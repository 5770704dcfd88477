/**
 * The hash of a token's claims that its issuance record in the ledger carries: SHA-256 of the RFC 8785 canonical
 * JSON of the claims without `provenance` (the record is written before its index, hence the provenance, is known).
 * @module
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { WritError } from '../errors.js';
import type { AccessTokenClaims } from './claims.js';

// TODO(lead): switch to core/canonical.ts once it lands, so there is one canonical-JSON implementation.
function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new WritError('ERR_INVALID_ARGUMENT', { detail: 'value has no JSON form' });
  return text;
}

/** SHA-256 (32 bytes) of the canonical JSON (RFC 8785) of `claims` minus `provenance`. */
export function accessTokenClaimsHash(claims: AccessTokenClaims): Buffer {
  const { provenance: _, ...recorded } = claims;
  return createHash('sha256').update(canonicalJson(recorded), 'utf8').digest();
}
