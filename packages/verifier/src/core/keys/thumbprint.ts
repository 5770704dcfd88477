/**
 * JWK thumbprints (RFC 7638): the `kid` of every Writ signing key, and the `jkt` binding a DPoP key (RFC 9449 §6).
 * @module
 */
import { createHash } from 'node:crypto';
import { b64uEncode } from '../encoding.js';
import { type ErrorCode, WritError } from '../errors.js';

// RFC 7638 §3.2: the required members of each key type, in lexicographic order; RFC 8037 §2 for OKP.
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
};

/**
 * The base64url SHA-256 JWK thumbprint of `jwk` (RFC 7638 §3.1): the JSON object of the required members only,
 * sorted, without whitespace, hashed. Optional members (`kid`, `alg`, `use`) never change it.
 */
export function jwkThumbprint(
  jwk: Readonly<Record<string, unknown>>,
  code: ErrorCode = 'ERR_KEY_MATERIAL_INVALID',
): string {
  const members = typeof jwk.kty === 'string' ? REQUIRED[jwk.kty] : undefined;
  if (!members) throw new WritError(code, { detail: 'jwk has no supported kty' });
  let json = '{';
  for (const m of members) {
    const v = jwk[m];
    if (typeof v !== 'string') throw new WritError(code, { detail: `jwk member ${m} is missing` });
    json += `${json.length > 1 ? ',' : ''}"${m}":${JSON.stringify(v)}`;
  }
  return b64uEncode(createHash('sha256').update(`${json}}`).digest());
}
