/**
 * JSON Web Keys (RFC 7517): exporting a public key, and importing an untrusted public JWK strictly (a JWK that
 * carries private members is refused, so a client can never make a server hold its private key).
 * @module
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ErrorCode } from '../errors.js';
import { WritError } from '../errors.js';
import { isJsonObject } from '../json.js';

/** A public JSON Web Key as Writ publishes and accepts it. */
export interface PublicJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid?: string;
  alg?: string;
  use?: string;
  [member: string]: unknown;
}

// RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2: members that make a JWK private (or symmetric).
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES = new Set(['OKP', 'EC', 'RSA']);

/** The public JWK of a key pair's public (or private) half: key members only, no `kid`/`alg`. */
export function publicJwk(key: KeyObject): PublicJwk {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'jwk' }) as PublicJwk;
}

/**
 * Imports an untrusted public JWK. Anything but an OKP/EC/RSA public key fails with `code`: private members,
 * symmetric keys, unknown key types and invalid points alike.
 */
export function importPublicJwk(jwk: unknown, code: ErrorCode): KeyObject {
  if (!isJsonObject(jwk)) throw new WritError(code, { detail: 'jwk is not an object' });
  if (typeof jwk.kty !== 'string' || !KEY_TYPES.has(jwk.kty)) {
    throw new WritError(code, { detail: 'jwk kty is not a public key type' });
  }
  for (const m of PRIVATE_MEMBERS) {
    if (m in jwk) throw new WritError(code, { detail: 'jwk carries private key members' });
  }
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw new WritError(code, { cause, detail: 'jwk is not a valid public key' });
  }
}
