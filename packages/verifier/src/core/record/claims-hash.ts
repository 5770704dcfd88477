/**
 * The hash that ties a token to its issuance record. The record is written before its ledger index is known, and
 * the token then carries `provenance: {log, index}`, so the hash covers every claim except `provenance`.
 * @module
 */
import { hash } from 'node:crypto';
import { canonicalBytes } from '../canonical.js';

/** base64url(SHA-256(RFC 8785 canonical JSON of `claims` without its `provenance` member)). */
export function tokenClaimsHash(claims: Readonly<Record<string, unknown>>): string {
  const { provenance: _, ...rest } = claims;
  return hash('sha256', canonicalBytes(rest), 'base64url');
}
